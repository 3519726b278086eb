import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Exactly 32 bytes in standard base64: 43 characters and one '=' (nothing ignored, nothing extra). */
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * Whether `text` is an encryption key as configuration gives one: the base64 of exactly 32 bytes,
 * written canonically (Buffer.from skips stray characters, so "32 bytes after decoding" alone would
 * take a mistyped value), and not one byte repeated (an all-zero placeholder protects nothing).
 */
export function isEncryptionKeyText(text: string): boolean {
  // A secret file ends in a newline more often than not (`openssl rand -base64 32 > key`).
  const trimmed = text.trim();
  if (!BASE64_32_BYTES.test(trimmed)) return false;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 && !key.every((byte) => byte === key[0]);
}

/** What configuration checks say of a value `isEncryptionKeyText` refuses. */
export const ENCRYPTION_KEY_TEXT_PROBLEM =
  'must be the base64 encoding of exactly 32 random bytes (e.g. `openssl rand -base64 32`)';

/**
 * Secrets at rest (signing keys in the services' databases): AES-256-GCM with a fresh 96-bit IV
 * per value; the tag authenticates it, so tampering fails loudly. `associatedData` (the row's key
 * id) binds a ciphertext to its row: swapping two rows' secrets fails to decrypt.
 */
export function encryptSecret(plaintext: string, key: Buffer, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
}

export function decryptSecret(encoded: string, key: Buffer, associatedData: string): string {
  const [iv, tag, body] = encoded.split('.').map((part) => Buffer.from(part, 'base64'));
  if (!iv || !tag || !body) throw new Error('encrypted secret is malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
