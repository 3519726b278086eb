import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret } from './secret-encryption';

describe('signing key encryption', () => {
  const key = randomBytes(32);

  it('round-trips and never repeats a ciphertext', () => {
    const a = encryptSecret('{"d":"secret"}', key, 'kid-1');
    expect(decryptSecret(a, key, 'kid-1')).toBe('{"d":"secret"}');
    expect(encryptSecret('{"d":"secret"}', key, 'kid-1')).not.toBe(a);
    expect(a).not.toContain('secret');
  });

  it('fails under another key, another kid, or a changed byte', () => {
    const sealed = encryptSecret('x', key, 'kid-1');
    expect(() => decryptSecret(sealed, randomBytes(32), 'kid-1')).toThrow();
    expect(() => decryptSecret(sealed, key, 'kid-2')).toThrow();
    const [iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body, 'base64');
    flipped[0] ^= 1;
    expect(() =>
      decryptSecret([iv, tag, flipped.toString('base64')].join('.'), key, 'kid-1'),
    ).toThrow();
  });
});
