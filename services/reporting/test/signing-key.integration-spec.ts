import { randomBytes } from 'node:crypto';
import type { UnitOfWork } from '@cinode/database';
import type { DataSource } from 'typeorm';
import type { ReportingConfig } from '../src/config';
import { ReportSigner } from '../src/signing/report-signer';
import { SigningKeysRepository } from '../src/signing/signing-keys.repository';
import { reportingTestDatabase } from './reporting-database';

describe(`${ReportSigner.name}: the signing key at rest`, () => {
  let db: DataSource;
  let uow: UnitOfWork;

  beforeAll(async () => {
    ({ db, uow } = await reportingTestDatabase('reporting_signing_key'));
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
  });

  const signer = (keyEncryptionKey: string) =>
    new ReportSigner(uow, new SigningKeysRepository(uow), {
      REPORT_KEY_ENCRYPTION_KEY: keyEncryptionKey,
    } as ReportingConfig);

  it('makes one key, opens it again with the same key-encryption key, and refuses to start with another', async () => {
    const sealing = randomBytes(32).toString('base64');
    await signer(sealing).onApplicationBootstrap();
    const first = await signer(sealing).key();
    expect((await signer(sealing).key()).keyId).toBe(first.keyId);
    await expect(
      signer(randomBytes(32).toString('base64')).onApplicationBootstrap(),
    ).rejects.toThrow(
      new RegExp(`REPORT_KEY_ENCRYPTION_KEY does not open the report-signing key ${first.keyId}`),
    );
  });
});
