import type { DataSource } from 'typeorm';

/** Rows deleted per statement, so pruning a long backlog never holds many locks at once. */
const BATCH = 5_000;

/**
 * Forgets events consumers handled longer than `retentionMs` ago (processed_event is what makes a
 * redelivery or a replay a no-op, so the retention must outlast any way an event can come back: the
 * config insists on at least 31 days, beyond the dead-letter stream's 30). Returns rows deleted.
 */
export async function pruneProcessedEvents(
  dataSource: DataSource,
  retentionMs: number,
  now: Date = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionMs);
  let deleted = 0;
  for (;;) {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected] = await dataSource.query<[unknown[], number]>(
      `DELETE FROM processed_event WHERE ctid IN (
         SELECT ctid FROM processed_event WHERE processed_at < $1 LIMIT ${BATCH})`,
      [cutoff],
    );
    deleted += affected;
    if (affected < BATCH) return deleted;
  }
}
