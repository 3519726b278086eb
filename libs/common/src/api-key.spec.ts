import { createHash } from 'node:crypto';
import { API_KEY_PATTERN, apiKeyMatches, generateApiKey, hashApiKey, parseApiKey } from './api-key';

describe('API key format', () => {
  it('generates cin_<prefix8>_<secret32> in base62 with the prefix in clear', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(API_KEY_PATTERN);
    expect(key.startsWith(`cin_${prefix}_`)).toBe(true);
    expect(parseApiKey(key)).toEqual({ prefix });
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
  });

  it('never repeats a key', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1000);
  });

  it('matches only the key whose hash is stored', () => {
    const { key, hash } = generateApiKey();
    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(apiKeyMatches(`${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`, hash)).toBe(false);
    expect(apiKeyMatches(key, hashApiKey('other'))).toBe(false);
  });

  it('rejects malformed keys', () => {
    for (const bad of [
      '',
      'cin_short_x',
      'cin_ABCDEFGH_' + 'x'.repeat(31),
      'cin_ABCDEFG!_' + 'x'.repeat(32),
      'key_ABCDEFGH_' + 'x'.repeat(32),
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });
});
