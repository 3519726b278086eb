import { Logger } from '@nestjs/common';
import { DataSource, Migration } from 'typeorm';

export interface RunMigrationsOptions {
  /** Give up waiting for another replica's migrations after this long (default 10 minutes). */
  lockTimeoutMs?: number;
}

/**
 * Runs pending migrations while holding a Postgres session advisory lock named `lockName`, so that
 * replicas starting together migrate one at a time: the first applies them, the others wait, then
 * find nothing pending. The lock lives on a dedicated connection and is released even on failure;
 * if the process dies, Postgres releases it with the session.
 */
export async function runMigrations(
  dataSource: DataSource,
  lockName: string,
  options: RunMigrationsOptions = {},
): Promise<Migration[]> {
  const logger = new Logger('Migrations');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SET statement_timeout = 0`);
    await runner.query(`SELECT set_config('lock_timeout', $1, false)`, [
      `${options.lockTimeoutMs ?? 600_000}ms`,
    ]);
    // hashtextextended gives a stable 64-bit key from the name, computed by the server itself.
    await runner.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [lockName]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0) {
        logger.log(
          `applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`,
        );
      }
      return applied;
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [lockName]);
    }
  } finally {
    await runner.release();
  }
}
