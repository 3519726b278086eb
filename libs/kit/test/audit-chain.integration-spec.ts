import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AuditChain } from '@cinode/audit';
import type { MutateRequest } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { ChainBreak } from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import { createTestAuth, eventually, expectGrpcError, type TestAuth } from '@cinode/testing';
import { Client } from 'pg';
import { startKitProbe, type KitProbeServer } from './kit-probe';

describe(`${AuditChain.name}: the append-only, hash-chained audit trail`, () => {
  let auth: TestAuth;
  let server: KitProbeServer;
  /** The database's superuser: what someone tampering with the trail directly would use. */
  let db: Client;
  let operator: ReturnType<KitProbeServer['clientAs']>;
  let regulator: ReturnType<KitProbeServer['clientAs']>;

  beforeAll(async () => {
    auth = await createTestAuth();
    server = await startKitProbe(auth, { GRPC_MAX_DEADLINE_MS: '2000' });
    db = new Client({ connectionString: server.databaseUrl });
    await db.connect();
    operator = server.clientAs(await auth.token(['operator'], 'op-1'));
    regulator = server.clientAs(await auth.token(['regulator'], 'reg-1'));
  });

  afterAll(async () => {
    await db?.end();
    await server?.stop();
  });

  const mutation = (overrides: Partial<MutateRequest> = {}): MutateRequest => ({
    requestId: '',
    key: randomUUID(),
    behaviour: '',
    delayMs: 0,
    ...overrides,
  });

  /** Every record linked (the chainer runs every second), then the verdict. */
  async function verifiedWhenLinked() {
    const { count } = (
      await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM audit_log`)
    ).rows[0];
    return eventually('every record linked into the chain', async () => {
      const verdict = await regulator.audit.api.verifyAuditChain({
        fromPosition: 0,
        maxRecords: 0,
      });
      return verdict.unlinked === 0 && verdict.headPosition >= count ? verdict : undefined;
    });
  }

  /** Runs SQL with triggers off, as a superuser can: the tampering the chain must reveal. */
  async function tamper(sql: string, values: unknown[]): Promise<void> {
    await db.query('BEGIN');
    await db.query(`SET LOCAL session_replication_role = replica`);
    await db.query(sql, values);
    await db.query('COMMIT');
  }

  async function recordAt(position: number): Promise<{ id: string; actor: string }> {
    const { rows } = await db.query<{ id: string; actor: string }>(
      `SELECT id::text, actor FROM audit_log WHERE chain_position = $1`,
      [position],
    );
    return rows[0];
  }

  it('links every record, settlements included, and finds the chain intact', async () => {
    for (let i = 0; i < 6; i += 1) await operator.probe.api.mutate(mutation());
    const failing = mutation({ behaviour: 'fail_after_commit' });
    await expectGrpcError(operator.probe.api.mutate(failing), GrpcStatus.INTERNAL);
    await expectGrpcError(
      server.clientAs('').probe.api.mutate(mutation()),
      GrpcStatus.UNAUTHENTICATED,
    );
    // The settlement is written once the call has settled, just after its answer.
    await eventually('the settlement record', async () => {
      const { rows } = await db.query(`SELECT 1 FROM audit_log WHERE object_id = $1`, [
        failing.key,
      ]);
      return rows.length === 2 || undefined;
    });
    const verdict = await verifiedWhenLinked();
    expect(verdict).toMatchObject({ intact: true, unlinked: 0 });
    expect(verdict.checked).toBe(verdict.headPosition);
    expect(verdict.headPosition).toBeGreaterThanOrEqual(9);
    expect(verdict.headHash).toMatch(/^[0-9a-f]{64}$/);

    // The failed call's real outcome is a record of its own, naming the change's record.
    const { records } = await regulator.audit.api.listAuditRecords({
      pageSize: 10,
      pageToken: '',
      actor: '',
      objectType: 'thing',
      objectId: failing.key,
      method: '',
      outcome: '',
      startTime: undefined,
      endTime: undefined,
    });
    const [settlement, change] = records;
    expect(change).toMatchObject({ outcome: 'OK', committed: true, settlesId: '' });
    expect(settlement).toMatchObject({ outcome: 'INTERNAL', settlesId: change.id });
    expect(settlement.chainPosition).toBeGreaterThan(change.chainPosition);
    expect(change.chainHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to change, delete or empty the trail', async () => {
    const { id } = await recordAt(2);
    const refused = { code: '42501', message: expect.stringMatching(/append-only/) };
    await expect(
      db.query(`UPDATE audit_log SET actor = 'x' WHERE id = $1`, [id]),
    ).rejects.toMatchObject(refused);
    await expect(
      db.query(`UPDATE audit_log SET chain_hash = repeat('0', 64) WHERE id = $1`, [id]),
    ).rejects.toMatchObject(refused);
    await expect(db.query(`DELETE FROM audit_log WHERE id = $1`, [id])).rejects.toMatchObject(
      refused,
    );
    await expect(db.query(`TRUNCATE audit_log`)).rejects.toMatchObject(refused);
    // Nothing can be parked outside the chain or ahead of its head, nor written linked.
    const pending = await db.query<{ id: string }>(
      `INSERT INTO audit_log (id, service, method, object_type, object_id, actor, actor_roles,
         tenant, request_id, peer, outcome, reason, committed, occurred_at, duration_ms, trace_id)
       VALUES (gen_random_uuid(), 'kit-probe', '/x', 'thing', '', '', '', '', '', '', 'OK', '',
         false, now(), 0, '') RETURNING id::text`,
    );
    const unlinked = pending.rows[0].id;
    await expect(
      db.query(
        `UPDATE audit_log SET chain_position = -5, chain_hash = repeat('0', 64) WHERE id = $1`,
        [unlinked],
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      db.query(
        `UPDATE audit_log SET chain_position = (SELECT max(chain_position) + 5 FROM audit_log),
           chain_hash = repeat('0', 64) WHERE id = $1`,
        [unlinked],
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      db.query(
        `INSERT INTO audit_log (id, service, method, object_type, object_id, actor, actor_roles,
           tenant, request_id, peer, outcome, reason, committed, occurred_at, duration_ms,
           trace_id, chain_position, chain_hash)
         VALUES (gen_random_uuid(), 'kit-probe', '/x', 'thing', '', '', '', '', '', '', 'OK', '',
           false, now(), 0, '', 1000000, repeat('0', 64))`,
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await verifiedWhenLinked();
    expect(
      (await regulator.audit.api.verifyAuditChain({ fromPosition: 0, maxRecords: 0 })).intact,
    ).toBe(true);
  });

  it('checks a long chain in parts, each going on where the last stopped', async () => {
    const first = await regulator.audit.api.verifyAuditChain({ fromPosition: 0, maxRecords: 3 });
    expect(first).toMatchObject({ checked: 3, nextPosition: 4 });
    const rest = await regulator.audit.api.verifyAuditChain({
      fromPosition: first.nextPosition,
      maxRecords: 0,
    });
    expect(rest.nextPosition).toBe(0);
    expect(rest.checked).toBe(rest.headPosition - 3);
  });

  it('names the record edited directly in Postgres, and the first one after a removed record', async () => {
    const edited = await recordAt(4);
    await tamper(`UPDATE audit_log SET actor = 'someone-else' WHERE id = $1`, [edited.id]);
    const broken = await regulator.audit.api.verifyAuditChain({ fromPosition: 0, maxRecords: 0 });
    expect(broken).toMatchObject({
      intact: false,
      checked: 3,
      firstBreak: {
        kind: ChainBreak.CHAIN_BREAK_HASH_MISMATCH,
        chainPosition: 4,
        recordId: edited.id,
      },
    });
    expect(broken.firstBreak?.description).toMatch(/record 4 .*changed/);
    // Checked from after the edit, trusting what precedes: the rest holds.
    await expect(
      regulator.audit.api.verifyAuditChain({ fromPosition: 5, maxRecords: 0 }),
    ).resolves.toMatchObject({ intact: true });

    await tamper(`UPDATE audit_log SET actor = $2 WHERE id = $1`, [edited.id, edited.actor]);
    await expect(
      regulator.audit.api.verifyAuditChain({ fromPosition: 0, maxRecords: 0 }),
    ).resolves.toMatchObject({ intact: true });

    const next = await recordAt(7);
    await tamper(`DELETE FROM audit_log WHERE chain_position = 6`, []);
    await expect(
      regulator.audit.api.verifyAuditChain({ fromPosition: 0, maxRecords: 0 }),
    ).resolves.toMatchObject({
      intact: false,
      checked: 5,
      firstBreak: {
        kind: ChainBreak.CHAIN_BREAK_RECORD_MISSING,
        chainPosition: 7,
        recordId: next.id,
      },
    });
  });

  it('answers operators and regulators only, and names a bad argument', async () => {
    for (const roles of [['provider'], ['user'], ['service']] as const) {
      const client = server.clientAs(await auth.token([...roles], `${roles[0]}-1`));
      await expectGrpcError(
        client.audit.api.verifyAuditChain({ fromPosition: 0, maxRecords: 0 }),
        GrpcStatus.PERMISSION_DENIED,
      );
    }
    const error = await expectGrpcError(
      operator.audit.api.verifyAuditChain({ fromPosition: -1, maxRecords: -5 }),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(error.details).toMatch(/from_position/);
  });
});
