import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** docs/adr/0001: `cin_<8-char prefix>_<32-char secret>`, base62. */
export const API_KEY_PATTERN = /^cin_([0-9A-Za-z]{8})_([0-9A-Za-z]{32})$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const PREFIX_LENGTH = 8;
export const SECRET_LENGTH = 32;

function base62(length: number): string {
  // randomInt is uniform (rejection sampling), so every character carries log2(62) bits.
  let out = '';
  for (let i = 0; i < length; i += 1) out += BASE62[randomInt(62)];
  return out;
}

export interface GeneratedApiKey {
  /** The full key, shown to its holder once. */
  key: string;
  prefix: string;
  /** SHA-256 (hex) of the whole key: what the database keeps. */
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = base62(PREFIX_LENGTH);
  const key = `cin_${prefix}_${base62(SECRET_LENGTH)}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The prefix of a well-formed key, or undefined. */
export function parseApiKey(key: string): { prefix: string } | undefined {
  const match = API_KEY_PATTERN.exec(key);
  return match ? { prefix: match[1] } : undefined;
}

/** Compares a presented key with a stored hash in constant time. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
