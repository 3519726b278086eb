import type { DynamicModule } from '@nestjs/common';
import { Logger as NestLogger } from '@nestjs/common';
import { ConfigError, redactConfig, type BaseServiceConfig } from '@cinode/config';
import {
  createDataSource,
  migrationLockNameFor,
  runMigrations,
  type DatabaseConnectionOptions,
} from '@cinode/database';
import { runUntilSignalled, startGrpcService } from '@cinode/grpc';
import { PinoNestLogger, createLogger } from '@cinode/logging';
import type { Logger } from 'pino';

export interface ServiceMainSpec<C extends BaseServiceConfig> {
  /** Service name for logs, metrics and errors. */
  name: string;
  /** Validates the environment; throws ConfigError listing every bad key. */
  loadConfig: () => C;
  /** Config keys never to log, beyond the base secrets. */
  secrets: readonly string[];
  /** The root module for a validated config. */
  module: (config: C) => DynamicModule;
  /** The gRPC services the process serves (health and reflection are added). */
  services: readonly string[];
  entities: DatabaseConnectionOptions['entities'];
  migrations: NonNullable<DatabaseConnectionOptions['migrations']>;
}

/**
 * The whole of a service's main.ts after `import '@cinode/telemetry/register'`: validate the
 * configuration (exit 2 listing every bad key), then either `main.js migrate` (what the chart's
 * migration Job runs: apply migrations under the advisory lock and exit) or serve until SIGTERM.
 */
export function runServiceMain<C extends BaseServiceConfig>(spec: ServiceMainSpec<C>): void {
  let config: C;
  try {
    config = spec.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ service: spec.name, level: config.LOG_LEVEL });

  if (process.argv[2] === 'migrate') {
    migrateOnly(spec, config, logger).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'migrations failed');
        process.exit(1);
      },
    );
    return;
  }
  logger.info({ config: redactConfig(config, spec.secrets) }, 'starting');
  runUntilSignalled(() =>
    startGrpcService({
      name: spec.name,
      module: spec.module(config),
      services: spec.services,
      config,
      logger,
    }),
  );
}

async function migrateOnly<C extends BaseServiceConfig>(
  spec: ServiceMainSpec<C>,
  config: C,
  logger: Logger,
): Promise<void> {
  NestLogger.overrideLogger(new PinoNestLogger(logger));
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    entities: spec.entities,
    migrations: spec.migrations,
    applicationName: `${spec.name}-migrate`,
  }).initialize();
  try {
    const applied = await runMigrations(dataSource, migrationLockNameFor(config.DATABASE_URL));
    logger.info({ applied: applied.map((m) => m.name) }, 'migrations complete');
  } finally {
    await dataSource.destroy();
  }
}
