import type { DynamicModule } from '@nestjs/common';
import { Logger as NestLogger } from '@nestjs/common';
import { AUDIT_GRPC_SERVICE } from '@cinode/audit';
import { ConfigError, redactConfig, type BaseServiceConfig } from '@cinode/config';
import { createDataSource, migrationLockNameFor, runMigrations } from '@cinode/database';
import { runUntilSignalled, startGrpcService, type RunningGrpcService } from '@cinode/grpc';
import { PinoNestLogger, createLogger } from '@cinode/logging';
import type { Logger } from 'pino';
import type { ServiceSchema } from './schema';

/** What a service is, for its main.ts and for tests that start it in process. */
export interface ServiceDefinition<C extends BaseServiceConfig> {
  /** Service name for logs, metrics and errors. */
  name: string;
  /** Validates the environment; throws ConfigError listing every bad key. */
  loadConfig: (env?: NodeJS.ProcessEnv) => C;
  /** Config keys never to log, beyond the base secrets. */
  secrets: readonly string[];
  /** The root module for a validated config. */
  module: (config: C) => DynamicModule;
  /** The gRPC services of its own it serves (AuditService, health and reflection are added). */
  services: readonly string[];
  schema: ServiceSchema;
}

/** Every gRPC service the process serves, its own and the platform's. */
export function servedServices<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
): string[] {
  return [...definition.services, AUDIT_GRPC_SERVICE];
}

/** Starts the service in this process (main.ts does it after config; tests do it directly). */
export function startService<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
  config: C,
  logger?: Logger,
): Promise<RunningGrpcService> {
  return startGrpcService({
    name: definition.name,
    module: definition.module(config),
    services: servedServices(definition),
    config,
    logger,
  });
}

/**
 * The whole of a service's main.ts after `import '@cinode/telemetry/register'`: validate the
 * configuration (exit 2 listing every bad key), then either `main.js migrate` (what the chart's
 * migration Job runs: apply migrations under the advisory lock and exit) or serve until SIGTERM.
 */
export function runServiceMain<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
): void {
  let config: C;
  try {
    config = definition.loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ service: definition.name, level: config.LOG_LEVEL });

  if (process.argv[2] === 'migrate') {
    migrateOnly(definition, config, logger).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'migrations failed');
        process.exit(1);
      },
    );
    return;
  }
  logger.info({ config: redactConfig(config, definition.secrets) }, 'starting');
  runUntilSignalled(() => startService(definition, config, logger));
}

async function migrateOnly<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
  config: C,
  logger: Logger,
): Promise<void> {
  NestLogger.overrideLogger(new PinoNestLogger(logger));
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    entities: definition.schema.entities,
    migrations: definition.schema.migrations,
    applicationName: `${definition.name}-migrate`,
  }).initialize();
  try {
    const applied = await runMigrations(dataSource, migrationLockNameFor(config.DATABASE_URL));
    logger.info({ applied: applied.map((m) => m.name) }, 'migrations complete');
  } finally {
    await dataSource.destroy();
  }
}
