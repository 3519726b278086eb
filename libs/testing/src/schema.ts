import { DataSource, type DataSourceOptions } from 'typeorm';
import { createTestDatabase } from './infra';

type Entities = NonNullable<DataSourceOptions['entities']>;
type Migrations = NonNullable<DataSourceOptions['migrations']>;

/**
 * Applies a service's migrations to a fresh database and returns the SQL TypeORM would still run
 * to match the entities: empty when the committed migrations describe exactly the entities, so a
 * hand edit or a forgotten migration fails the service's schema test.
 */
export async function pendingSchemaChanges(
  entities: Entities,
  migrations: Migrations,
): Promise<string[]> {
  const dataSource = await new DataSource({
    type: 'postgres',
    url: await createTestDatabase('schema'),
    entities,
    migrations,
    migrationsTransactionMode: 'each',
  }).initialize();
  try {
    await dataSource.runMigrations();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    return pending.upQueries.map((q) => q.query);
  } finally {
    await dataSource.destroy();
  }
}

/** A data source over `url` that runs exactly `migrations`, each in its own transaction. */
export function migrationDataSource(url: string, migrations: Migrations): Promise<DataSource> {
  return new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTransactionMode: 'each',
  }).initialize();
}

/**
 * Reverts migrations, newest first, up to and including the one named `name` (later ones, such as
 * the platform's own, go first), so a test can check what one migration's `down` restores.
 */
export async function undoMigrationsThrough(db: DataSource, name: string): Promise<void> {
  for (let undone = 0; undone < 100; undone++) {
    const rows = await db.query<{ name: string }[]>(
      `SELECT name FROM migrations ORDER BY timestamp DESC, id DESC LIMIT 1`,
    );
    const last = rows[0]?.name;
    if (last === undefined) throw new Error(`migration ${name} was never run`);
    await db.undoLastMigration({ transaction: 'each' });
    if (last === name) return;
  }
  throw new Error(`migration ${name} not reached after 100 reverts`);
}
