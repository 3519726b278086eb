import { Logger as NestLogger } from '@nestjs/common';
import { createDataSource, migrationLockNameFor, runMigrations } from '@cinode/database';
import { PinoNestLogger } from '@cinode/logging';
import type { Logger } from 'pino';
import { SERVICE_NAME, type IdentifierConfig } from './config';
import { IDENTIFIER_ENTITIES, IDENTIFIER_MIGRATIONS } from './schema';

/** `main.js migrate`: what the chart's migration Job runs before a rollout. */
export async function runMigrationsOnly(config: IdentifierConfig, logger: Logger): Promise<void> {
  NestLogger.overrideLogger(new PinoNestLogger(logger));
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    entities: IDENTIFIER_ENTITIES,
    migrations: IDENTIFIER_MIGRATIONS,
    applicationName: `${SERVICE_NAME}-migrate`,
  }).initialize();
  try {
    const applied = await runMigrations(dataSource, migrationLockNameFor(config.DATABASE_URL));
    logger.info({ applied: applied.map((m) => m.name) }, 'migrations complete');
  } finally {
    await dataSource.destroy();
  }
}
