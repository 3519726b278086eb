import { DataSource } from 'typeorm';
import { EVENT_MIGRATIONS } from '@cinode/events';
import { undoMigrationsThrough } from '@cinode/testing';
import { migratedDataSource } from './support';

describe('the event tables (EVENT_MIGRATIONS)', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await migratedDataSource('events_schema');
  });
  afterAll(async () => {
    await dataSource.destroy();
  });

  it('creates exactly the schema the entities describe, so generated service migrations stay clean', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('names its indexes and constraints explicitly', async () => {
    const rows = await dataSource.query<{ name: string }[]>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename IN ('outbox_event', 'processed_event') ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual([
      'ix_outbox_event_claim',
      'ix_outbox_event_parked',
      'ix_outbox_event_published_at',
      'ix_processed_event_processed_at',
      'pk_outbox_event',
      'pk_processed_event',
    ]);
  });

  it('can be reverted', async () => {
    // The test's own table, then every event migration.
    for (let i = 0; i <= EVENT_MIGRATIONS.length; i++) await dataSource.undoLastMigration();
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('outbox_event', 'processed_event')`,
    );
    expect(n).toBe(0);
  });
});

describe('OutboxDataText1797100000000 on an outbox with rows', () => {
  it('keeps the rows still to publish, their data as the JSON text, and deletes the published', async () => {
    const dataSource = await migratedDataSource('events_data_text');
    try {
      await undoMigrationsThrough(dataSource, 'OutboxDataText1797100000000');
      const insert = (id: string, published: boolean) =>
        dataSource.query(
          `INSERT INTO outbox_event (id, type, source, schema_version, occurred_at, data, published_at)
           VALUES ($1, 'cinode.test.thing.created', 'schema-test', 1, now(), $2::jsonb, $3)`,
          [id, JSON.stringify({ id, note: 'ä "q"' }), published ? new Date() : null],
        );
      const waiting = '0193a1b2-c3d4-7e5f-8a6b-000000000001';
      await insert(waiting, false);
      await insert('0193a1b2-c3d4-7e5f-8a6b-000000000002', true);
      await dataSource.runMigrations({ transaction: 'each' });
      const rows = await dataSource.query<{ id: string; data: unknown }[]>(
        `SELECT id, data FROM outbox_event`,
      );
      expect(rows).toEqual([{ id: waiting, data: expect.any(String) as unknown }]);
      expect(JSON.parse(rows[0].data as string)).toEqual({ id: waiting, note: 'ä "q"' });
    } finally {
      await dataSource.destroy();
    }
  });
});
