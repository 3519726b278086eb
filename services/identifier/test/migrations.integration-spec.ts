import { CreateEventTables1763900000000 } from '@cinode/events';
import { createTestDatabase, migrationDataSource, undoMigrationsThrough } from '@cinode/testing';
import { IdentifierInitialSchema1764000000000 } from '../src/migrations/1764000000000-initial-schema';
import { IDENTIFIER_SCHEMA } from '../src/schema';

/** A database as the identifier service left it before the kit: the first two migrations, some rows. */
async function legacyDatabase(): Promise<string> {
  const url = await createTestDatabase('identifier_legacy');
  const db = await migrationDataSource(url, [
    CreateEventTables1763900000000,
    IdentifierInitialSchema1764000000000,
  ]);
  try {
    await db.runMigrations();
    const identifier = (id: string, key: string | null) =>
      db.query(
        `INSERT INTO identifier (identifier, serial, node_code, object_type, object_name,
           owner_participant_id, owner_name, owner_credit_code, attributes, state, issued_by,
           issued_at, state_changed_at, idempotency_key)
         VALUES ($1, $2, 'R0001', 'RP', 'pool', 'prov-a', 'Example Cloud Ltd.', '', '{}', 'filed',
           'prov-a', '2026-01-02T03:04:05.678Z', now(), $3)`,
        [id, Number(id.slice(-3)), key],
      );
    await identifier('CN.R0001.RP.000000011', 'prov-a:req-1');
    await identifier('CN.R0001.RP.000000022', null);
    for (const [id, from, to] of [
      ['CN.R0001.RP.000000011', null, 'reserved'],
      ['CN.R0001.RP.000000011', 'reserved', 'pending_filing'],
      ['CN.R0001.RP.000000011', 'pending_filing', 'filed'],
      ['CN.R0001.RP.000000011', 'filed', 'suspended'],
      ['CN.R0001.RP.000000011', 'suspended', 'filed'],
      ['CN.R0001.RP.000000022', null, 'reserved'],
      ['CN.R0001.RP.000000022', 'reserved', 'pending_filing'],
    ])
      await db.query(
        `INSERT INTO identifier_transition (identifier, from_state, to_state, actor, reason, changed_at)
         VALUES ($1, $2, $3, 'prov-a', 'x', now())`,
        [id, from, to],
      );
    await db.query(
      `INSERT INTO participant_projection (participant_id, kind, state, event_time, event_id)
       VALUES ('prov-a', 'COMPUTE_PROVIDER', 'certified', now(), '0198a0b4-0000-7000-8000-000000000001')`,
    );
  } finally {
    await db.destroy();
  }
  return url;
}

describe('identifier migrations', () => {
  it('carry a database from before the kit over (versions, request ids, projection), and back', async () => {
    const url = await legacyDatabase();
    const db = await migrationDataSource(url, IDENTIFIER_SCHEMA.migrations);
    try {
      await db.runMigrations();
      expect(
        await db.query(`SELECT identifier, version FROM identifier ORDER BY identifier`),
      ).toEqual([
        { identifier: 'CN.R0001.RP.000000011', version: 4 },
        { identifier: 'CN.R0001.RP.000000022', version: 1 },
      ]);
      expect(
        await db.query(
          `SELECT scope, request_id, operation, fingerprint, object_id, created_at FROM idempotency_key`,
        ),
      ).toEqual([
        {
          scope: 'prov-a',
          request_id: 'req-1',
          operation: 'IssueIdentifier',
          fingerprint: null,
          object_id: 'CN.R0001.RP.000000011',
          created_at: new Date('2026-01-02T03:04:05.678Z'),
        },
      ]);
      expect(await db.query(`SELECT * FROM participant_projection`)).toEqual([
        {
          participant_id: 'prov-a',
          version: 0,
          kind: 'COMPUTE_PROVIDER',
          state: 'CERTIFIED',
          legal_name: null,
          credit_code: null,
          event_id: '0198a0b4-0000-7000-8000-000000000001',
        },
      ]);

      await undoMigrationsThrough(db, 'VersionsAndCallerScopedRequestIds1796100000000');
      expect(
        await db.query(`SELECT identifier, idempotency_key FROM identifier ORDER BY identifier`),
      ).toEqual([
        { identifier: 'CN.R0001.RP.000000011', idempotency_key: 'prov-a:req-1' },
        { identifier: 'CN.R0001.RP.000000022', idempotency_key: null },
      ]);
      expect(await db.query(`SELECT state FROM participant_projection`)).toEqual([
        { state: 'certified' },
      ]);
    } finally {
      await db.destroy();
    }
  });
});
