import { generateKeyPairSync, sign } from 'node:crypto';
import { isWeakEd25519Key, verifyEd25519 } from './report-signature';

const hex = (s: string) => Buffer.from(s, 'hex');

describe(isWeakEd25519Key.name, () => {
  it('refuses the small-order points, with either sign bit, and non-canonical encodings', () => {
    const identity = hex('01' + '00'.repeat(31));
    // With the identity as the key, one signature verifies every message.
    const forged = hex('01' + '00'.repeat(63));
    expect(verifyEd25519(identity, Buffer.from('any report'), forged)).toBe(true);
    expect(isWeakEd25519Key(identity)).toBe(true);
    for (const weak of [
      '00'.repeat(32),
      'ec' + 'ff'.repeat(30) + '7f',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      'ed' + 'ff'.repeat(30) + '7f',
      'ee' + 'ff'.repeat(30) + '7f',
      'ff'.repeat(32),
    ])
      expect([weak, isWeakEd25519Key(hex(weak))]).toEqual([weak, true]);
    expect(isWeakEd25519Key(hex('00'.repeat(31)))).toBe(true);
  });

  it('accepts a real key, which verifies only its own signatures', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    expect(isWeakEd25519Key(raw)).toBe(false);
    const message = Buffer.from('report');
    expect(verifyEd25519(raw, message, sign(null, message, privateKey))).toBe(true);
    expect(verifyEd25519(raw, Buffer.from('other'), sign(null, message, privateKey))).toBe(false);
  });
});
