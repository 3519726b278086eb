import { CreateEventTables1763900000000 } from '@cinode/events';
import { ParticipantLifecycle, parseEvent } from '@cinode/contracts';
import { createTestDatabase, migrationDataSource, undoMigrationsThrough } from '@cinode/testing';
import { InitialSchema1795452564844 } from '../src/migrations/1795452564844-InitialSchema';
import { SERVICE_CENTER_SCHEMA } from '../src/schema';

const PROVIDER = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';
const OPERATOR = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const KEY = '11111111-2222-4333-8444-555555555555';
const QUALIFICATION = '22222222-3333-4444-8555-666666666666';

/** A database as the service center left it before the kit: its first migrations and some rows. */
async function legacyDatabase(): Promise<string> {
  const url = await createTestDatabase('service_center_legacy');
  const db = await migrationDataSource(url, [
    CreateEventTables1763900000000,
    InitialSchema1795452564844,
  ]);
  try {
    await db.runMigrations();
    const participant = (id: string, kind: number, state: number, requestId: string, by: string) =>
      db.query(
        `INSERT INTO participant (id, kind, user_category, name, state, organization, individual,
           request_id, created_by, created_at, updated_at)
         VALUES ($1, $2, 0, $7, $3, $4, NULL, $5, $6, now(), now())`,
        [
          id,
          kind,
          state,
          kind === 6
            ? null
            : JSON.stringify({ creditCode: '914403001922038216', address: 'Road 1' }),
          requestId,
          by,
          `Example ${kind}`,
        ],
      );
    await participant(OPERATOR, 6, 3, 'install:bootstrap-operator', 'install');
    await participant(PROVIDER, 1, 3, 'reg-1', 'anonymous');
    for (const [from, to] of [
      [0, 1],
      [1, 2],
      [2, 3],
    ])
      await db.query(
        `INSERT INTO certification_event (id, participant_id, from_state, to_state, actor, reason, created_at)
         VALUES (gen_random_uuid(), $1, $2, $3, 'op', 'x', now())`,
        [PROVIDER, from, to],
      );
    await db.query(
      `INSERT INTO api_key (id, participant_id, prefix, secret_hash, state, created_by, created_at, rotation_request_id)
       VALUES ($1, $2, 'ABCDEFGH', repeat('0', 64), 2, $3, now(), 'rot-1')`,
      [KEY, PROVIDER, PROVIDER],
    );
    await db.query(
      `INSERT INTO qualification (id, participant_id, request_id, valid_from, valid_until, granted_by, grant_reason, created_at, revoked_at)
       VALUES ($1, $2, 'grant-1', now(), now() + interval '1 day', 'op-1', 'x', now(), now())`,
      [QUALIFICATION, PROVIDER],
    );
    await db.query(
      `INSERT INTO audit_record (id, actor, actor_roles, action, object_type, object_id, result, peer, occurred_at)
       VALUES (gen_random_uuid(), 'op-1', 'operator', 'SuspendParticipant', 'participant', $1,
               'FAILED_PRECONDITION:INVALID_TRANSITION', 'ipv4:127.0.0.1:5', now())`,
      [PROVIDER],
    );
  } finally {
    await db.destroy();
  }
  return url;
}

describe('service-center migrations', () => {
  it('carry a database from before the kit over: versions, request ids, the trail, and an announcement of every participant', async () => {
    const url = await legacyDatabase();
    const db = await migrationDataSource(url, SERVICE_CENTER_SCHEMA.migrations);
    try {
      await db.runMigrations();
      // Three transitions, then one more for the announcement; the operator is not announced.
      expect(await db.query(`SELECT id, version FROM participant ORDER BY kind`)).toEqual([
        { id: PROVIDER, version: 4 },
        { id: OPERATOR, version: 1 },
      ]);
      // Anonymous registrations ('reg-1') carried no fingerprint: a key without one could answer a
      // stranger who guessed the request id with someone else's registration, so none is kept.
      expect(
        await db.query(
          `SELECT scope, request_id, operation, object_id FROM idempotency_key ORDER BY operation`,
        ),
      ).toEqual([
        {
          scope: 'install',
          request_id: 'bootstrap-operator',
          operation: 'BootstrapOperator',
          object_id: OPERATOR,
        },
        {
          scope: 'op-1',
          request_id: 'grant-1',
          operation: 'GrantResaleQualification',
          object_id: QUALIFICATION,
        },
        { scope: PROVIDER, request_id: 'rot-1', operation: 'RotateApiKey', object_id: KEY },
      ]);
      expect(await db.query(`SELECT version FROM api_key`)).toEqual([{ version: 2 }]);
      expect(await db.query(`SELECT version FROM qualification`)).toEqual([{ version: 2 }]);
      expect(
        await db.query(`SELECT method, outcome, reason, committed, actor FROM audit_log`),
      ).toEqual([
        {
          method: 'SuspendParticipant',
          outcome: 'FAILED_PRECONDITION',
          reason: 'INVALID_TRANSITION',
          committed: false,
          actor: 'op-1',
        },
      ]);
      const announced = await db.query<
        { id: string; type: string; schema_version: number; data: unknown }[]
      >(`SELECT id, type, schema_version, data::jsonb AS data FROM outbox_event`);
      expect(announced).toHaveLength(1);
      // What consumers receive passes the contract, newer than anything they hold.
      const event = parseEvent(ParticipantLifecycle, {
        type: announced[0].type,
        schemaVersion: announced[0].schema_version,
        data: announced[0].data,
      });
      expect(event?.data).toEqual({
        participantId: PROVIDER,
        version: 4,
        kind: 'COMPUTE_PROVIDER',
        state: 'CERTIFIED',
        previousState: 'CERTIFIED',
        legalName: 'Example 1',
        creditCode: '914403001922038216',
        reason: 'announced again at the upgrade to versioned events',
        actor: 'system:upgrade',
      });
      await undoMigrationsThrough(db, 'KitAlignment1796100000000');
      expect(await db.query(`SELECT request_id FROM participant ORDER BY kind`)).toHaveLength(2);
    } finally {
      await db.destroy();
    }
  });
});
