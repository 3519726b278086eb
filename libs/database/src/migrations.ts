import { Logger } from '@nestjs/common';
import { DataSource, Migration } from 'typeorm';

export interface RunMigrationsOptions {
  /** Give up waiting for another replica's migrations after this long (default 10 minutes). */
  lockTimeoutMs?: number;
}

/** How long a replica waiting for another's migrations pauses between tries of the lock. */
const LOCK_POLL_MS = 250;

/**
 * Runs pending migrations while holding a Postgres session advisory lock named `lockName`, so that
 * replicas starting together migrate one at a time: the first applies them, the others wait, then
 * find nothing pending. The lock lives on a dedicated connection and is released even on failure;
 * if the process dies, Postgres releases it with the session.
 *
 * A replica waits by trying the lock again every LOCK_POLL_MS, never inside pg_advisory_lock: a
 * statement blocked there holds a snapshot, and a migration building an index CONCURRENTLY waits
 * for every snapshot older than its own, so the replica migrating would wait for the one waiting
 * for it until that one gave up.
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
    const timeoutMs = options.lockTimeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // hashtextextended gives a stable 64-bit key from the name, computed by the server itself.
      const [{ locked }] = (await runner.query(
        `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
        [lockName],
      )) as Array<{ locked: boolean }>;
      if (locked) break;
      if (Date.now() >= deadline)
        throw new Error(
          `another replica held the migration lock "${lockName}" for more than ${timeoutMs} ms`,
        );
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
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
