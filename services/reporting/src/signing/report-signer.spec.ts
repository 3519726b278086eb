import { createHash, createPublicKey, verify } from 'node:crypto';
import { reportSigningMessage, type ReportEnvelope } from '@cinode/contracts';
import { decryptSecret, encryptSecret } from '@cinode/common';
import { keyIdOf, newSigningKey, signReport } from './report-signer';

const envelope: ReportEnvelope = {
  reportId: '0b1c6f1e-2f0a-4f7e-9d41-7a3c2b1d0e9f',
  nodeCode: 'R0001',
  kind: 1,
  specialRequestId: '',
  periodStart: new Date('2026-11-30T23:00:00Z'),
  periodEnd: new Date('2026-12-01T23:00:00Z'),
  generatedAt: new Date('2026-12-01T23:00:00Z'),
  schemaVersion: '1',
  contentType: 'application/json',
  payloadSha256: createHash('sha256').update('{}').digest('hex'),
};

function publicKeyOf(raw: Buffer) {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

describe(signReport.name, () => {
  it('makes a signature the raw public key verifies, over the envelope and payload hash', () => {
    const key = newSigningKey();
    expect(key.publicKey).toHaveLength(32);
    expect(key.keyId).toBe(keyIdOf(key.publicKey));
    const signature = signReport(envelope, key.privateKey);
    expect(signature).toHaveLength(64);
    const raw = publicKeyOf(key.publicKey);
    expect(verify(null, reportSigningMessage(envelope), raw, signature)).toBe(true);
    const tampered = {
      ...envelope,
      payloadSha256: createHash('sha256').update('[]').digest('hex'),
    };
    expect(verify(null, reportSigningMessage(tampered), raw, signature)).toBe(false);
  });

  it('signs the same report the same way every time (a retry is the same request)', () => {
    const key = newSigningKey();
    expect(signReport(envelope, key.privateKey)).toEqual(signReport(envelope, key.privateKey));
  });
});

describe('signing key encryption at rest', () => {
  const key = Buffer.alloc(32, 3);

  it('round-trips, bound to its key id', () => {
    const sealed = encryptSecret('secret pem', key, 'kid-1');
    expect(sealed).not.toContain('secret');
    expect(decryptSecret(sealed, key, 'kid-1')).toBe('secret pem');
    expect(() => decryptSecret(sealed, key, 'kid-2')).toThrow();
    expect(() => decryptSecret(sealed, Buffer.alloc(32, 4), 'kid-1')).toThrow();
  });
});
