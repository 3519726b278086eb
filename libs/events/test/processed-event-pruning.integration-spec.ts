import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { pruneProcessedEvents } from '@cinode/events';
import { migratedDataSource } from './support';

const DAY_MS = 24 * 3600 * 1000;

describe(pruneProcessedEvents.name, () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await migratedDataSource('events_pruning');
  });
  afterAll(async () => {
    await dataSource.destroy();
  });

  it('forgets handled events past the retention, in batches, and keeps the rest', async () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const insert = (count: number, ageDays: number) =>
      dataSource.query(
        `INSERT INTO processed_event (consumer, event_id, processed_at)
         SELECT 'c', gen_random_uuid(), $1::timestamptz FROM generate_series(1, $2)`,
        [new Date(now.getTime() - ageDays * DAY_MS), count],
      );
    await insert(12_000, 40); // more than one batch
    await insert(3, 36);
    await insert(5, 34);
    const kept = randomUUID();
    await dataSource.query(
      `INSERT INTO processed_event (consumer, event_id, processed_at) VALUES ('c', $1, $2)`,
      [kept, now],
    );

    expect(await pruneProcessedEvents(dataSource, 35 * DAY_MS, now)).toBe(12_003);
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM processed_event`,
    );
    expect(n).toBe(6);
    expect(await pruneProcessedEvents(dataSource, 35 * DAY_MS, now)).toBe(0);
  });
});
