import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** The id of a raw public key: lower-case hex SHA-256 of its bytes. */
export function signingKeyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

/** A raw 32-byte Ed25519 public key as a KeyObject. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/** True when `signature` is an Ed25519 signature of `message` by the raw public key. */
export function verifyEd25519(raw: Uint8Array, message: Buffer, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, ed25519PublicKey(raw), signature);
  } catch {
    return false;
  }
}
