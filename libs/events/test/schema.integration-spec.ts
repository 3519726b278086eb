import { DataSource } from 'typeorm';
import { EVENT_MIGRATIONS } from '@cinode/events';
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
