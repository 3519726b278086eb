import { TransactionExtensions, UnitOfWork } from '@cinode/database';
import { createTestDatabase } from '@cinode/testing';
import { DataSource } from 'typeorm';
import { IdentifiersRepository } from '../src/identifiers/identifiers.repository';
import { IDENTIFIER_SCHEMA } from '../src/schema';

/** A fresh, migrated identifier database with the repository over it (no service around it). */
export async function openIdentifierDatabase(
  name: string,
): Promise<{ db: DataSource; uow: UnitOfWork; identifiers: IdentifiersRepository }> {
  const db = await new DataSource({
    type: 'postgres',
    url: await createTestDatabase(name),
    entities: IDENTIFIER_SCHEMA.entities,
    migrations: IDENTIFIER_SCHEMA.migrations,
    migrationsTransactionMode: 'each',
  }).initialize();
  await db.runMigrations({ transaction: 'each' });
  const uow = new UnitOfWork(db, new TransactionExtensions());
  return { db, uow, identifiers: new IdentifiersRepository(uow) };
}
