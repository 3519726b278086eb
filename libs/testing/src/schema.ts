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
