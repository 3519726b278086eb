import { DataSource } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { TypeOrmLogger } from './typeorm-logger';

/** What a service says about its own database; everything else is decided here, once. */
export interface DatabaseConnectionOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  entities: NonNullable<PostgresConnectionOptions['entities']>;
  migrations?: PostgresConnectionOptions['migrations'];
  /** Shown in pg_stat_activity, so an operator can tell which service holds a connection. */
  applicationName?: string;
  /** Upper bound of pooled connections per process (default 10). */
  poolSize?: number;
  /** How long an idle pooled connection is kept (default 30 s). */
  idleTimeoutMs?: number;
  /** How long to wait for a new connection before failing (default 5 s). */
  connectionTimeoutMs?: number;
  /** Server-side statement timeout for pooled connections; unset means the server default. */
  statementTimeoutMs?: number;
  logging?: PostgresConnectionOptions['logging'];
  migrationsTableName?: string;
  ssl?: PostgresConnectionOptions['ssl'];
}

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_MIGRATIONS_TABLE = 'migrations';

/**
 * Options for TypeORM's Postgres driver. `synchronize` and `migrationsRun` are always off: schema
 * changes go through reviewed migrations, run explicitly under an advisory lock (see runMigrations).
 */
export function buildDataSourceOptions(
  options: DatabaseConnectionOptions,
): PostgresConnectionOptions {
  const extra: Record<string, unknown> = {
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  };
  if (options.statementTimeoutMs !== undefined)
    extra.statement_timeout = options.statementTimeoutMs;
  return {
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations ?? [],
    migrationsTableName: options.migrationsTableName ?? DEFAULT_MIGRATIONS_TABLE,
    // Each migration in its own transaction, so a failure leaves the earlier ones applied and recorded.
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    dropSchema: false,
    logging: options.logging ?? ['error', 'warn', 'migration'],
    logger: new TypeOrmLogger(),
    applicationName: options.applicationName,
    ssl: options.ssl,
    extra,
  };
}

/** An uninitialised data source; call `initialize()` (or let DatabaseModule do it). */
export function createDataSource(options: DatabaseConnectionOptions): DataSource {
  return new DataSource(buildDataSourceOptions(options));
}
