import { TransactionExtensions, UnitOfWork } from '@cinode/database';
import { createTestDatabase } from '@cinode/testing';
import { DataSource } from 'typeorm';
import { REPORTING_SCHEMA } from '../src/schema';

/** A fresh database with reporting's schema migrated, and a unit of work on it. */
export async function reportingTestDatabase(
  name: string,
): Promise<{ db: DataSource; uow: UnitOfWork }> {
  const db = await new DataSource({
    type: 'postgres',
    url: await createTestDatabase(name),
    entities: REPORTING_SCHEMA.entities,
    migrations: REPORTING_SCHEMA.migrations,
    migrationsTransactionMode: 'each',
  }).initialize();
  await db.runMigrations({ transaction: 'each' });
  return { db, uow: new UnitOfWork(db, new TransactionExtensions()) };
}
