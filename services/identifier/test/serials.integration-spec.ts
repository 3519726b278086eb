import { DomainError } from '@cinode/common';
import { TransactionExtensions, UnitOfWork } from '@cinode/database';
import { createTestDatabase, migrationDataSource } from '@cinode/testing';
import type { DataSource } from 'typeorm';
import { IdentifiersRepository } from '../src/identifiers/identifiers.repository';
import { IDENTIFIER_SCHEMA } from '../src/schema';

describe('identifier serials', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = await migrationDataSource(
      await createTestDatabase('identifier_serials'),
      IDENTIFIER_SCHEMA.migrations,
    );
    await db.runMigrations({ transaction: 'each' });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('answers RESOURCE_EXHAUSTED, not a database error, once the last serial is used', async () => {
    const uow = new UnitOfWork(db, new TransactionExtensions());
    const serials = new IdentifiersRepository(uow);
    await db.query(`SELECT setval('identifier_serial_seq', 99999998)`);
    await expect(uow.run((tx) => serials.nextSerial(tx))).resolves.toBe(99_999_999);
    const error: unknown = await uow.run((tx) => serials.nextSerial(tx)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: 'RESOURCE_EXHAUSTED', reason: 'SERIALS_EXHAUSTED' });
  });
});
