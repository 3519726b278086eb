import { createTestDatabase, migrationDataSource, pendingSchemaChanges } from '@cinode/testing';
import { COMPUTE_SELECTION_SCHEMA } from '../src/schema';

describe('compute-selection schema', () => {
  it('is exactly what the migrations create', async () => {
    expect(
      await pendingSchemaChanges(
        COMPUTE_SELECTION_SCHEMA.entities,
        COMPUTE_SELECTION_SCHEMA.migrations,
      ),
    ).toEqual([]);
  });
});

describe('compute-selection migrations in a rolling upgrade', () => {
  it('start a line registered without spec_version (as the version before it did) at 1', async () => {
    const db = await migrationDataSource(
      await createTestDatabase('selection_rollout'),
      COMPUTE_SELECTION_SCHEMA.migrations,
    );
    try {
      await db.runMigrations();
      // The columns the version before LineSpecVersion1797000000000 wrote, and nothing else.
      await db.query(
        `INSERT INTO line (line_id, provider_participant_id, name, a_region_code, a_site,
           b_region_code, b_site, bandwidth_mbps_total, bandwidth_mbps_free, latency_ms,
           price_fen_per_hour, availability, out_of_service, filing, version, registered_at,
           updated_at, bandwidth_mbps_reserved)
         VALUES ('CN.R0001.LN.00000001X', 'line-provider', 'old replica', '110000', 'a',
           '310000', 'b', 1000, 1000, 12, 500, 0.999, false, 'pending', 1, now(), now(), 0)`,
      );
      const [row] = await db.query<{ spec_version: string }[]>(
        `SELECT spec_version FROM line WHERE line_id = 'CN.R0001.LN.00000001X'`,
      );
      expect(Number(row.spec_version)).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});
