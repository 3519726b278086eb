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

/** 2^255 - 19, the field's prime. */
const P = (1n << 255n) - 19n;

/**
 * The y coordinates of the points of small order (1, 2, 4, 8) of edwards25519. A public key that
 * is one of them verifies forged signatures (with the identity, one signature verifies every
 * message), so it proves nothing about who signed.
 */
const SMALL_ORDER_Y = new Set<bigint>([
  0n,
  1n,
  P - 1n,
  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n,
  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n,
]);

/**
 * True when the raw key encodes a point of small order, or its y coordinate non-canonically
 * (at or above the prime): such keys are refused, whatever OpenSSL would accept.
 */
export function isWeakEd25519Key(raw: Uint8Array): boolean {
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) return true;
  let y = 0n;
  for (let i = ED25519_PUBLIC_KEY_BYTES - 1; i >= 0; i -= 1)
    y = (y << 8n) | BigInt(i === ED25519_PUBLIC_KEY_BYTES - 1 ? raw[i] & 0x7f : raw[i]);
  return y >= P || SMALL_ORDER_Y.has(y);
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
