import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  Client as RawGrpcClient,
  Metadata,
  credentials,
  status as GrpcStatus,
  type ServiceError,
} from '@grpc/grpc-js';
import { decodeRichStatus, isGrpcError } from '@cinode/grpc';
import { CallPipeline } from '@cinode/kit';
import type { MutateRequest } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { createTestAuth, eventually, expectGrpcError, type TestAuth } from '@cinode/testing';
import { auditParticipantRefusalsSuppressed, auditSuppressed } from '@cinode/telemetry';
import { Client } from 'pg';
import { DIRECT_DISPATCH, GrpcExceptionFilter, type DirectDispatch } from '@cinode/grpc';
import { startKitProbe, type KitProbeServer } from './kit-probe';

interface AuditRow {
  method: string;
  object_type: string;
  object_id: string;
  actor: string;
  actor_roles: string;
  tenant: string;
  request_id: string;
  outcome: string;
  reason: string;
  committed: boolean;
  xmin: string;
}

const MUTATE = '/cinode.testing.v1.ProbeService/Mutate';

describe(`${CallPipeline.name}: audit records, idempotency and deadlines`, () => {
  let auth: TestAuth;
  /** GRPC_MAX_DEADLINE_MS 500: every call is cut at half a second. */
  let server: KitProbeServer;
  let db: Client;
  let operator: ReturnType<KitProbeServer['clientAs']>;
  let operatorToken: string;

  beforeAll(async () => {
    auth = await createTestAuth();
    server = await startKitProbe(auth, { GRPC_MAX_DEADLINE_MS: '500' });
    db = new Client({ connectionString: server.databaseUrl });
    await db.connect();
    operatorToken = await auth.token(['operator'], 'op-1');
    operator = server.clientAs(operatorToken);
  });

  afterAll(async () => {
    await db?.end();
    await server?.stop();
  });

  function mutation(overrides: Partial<MutateRequest> = {}): MutateRequest {
    return { requestId: '', key: randomUUID(), behaviour: '', delayMs: 0, ...overrides };
  }

  async function recordsFor(key: string, requestId = ''): Promise<AuditRow[]> {
    const { rows } = await db.query<AuditRow>(
      `SELECT method, object_type, object_id, actor, actor_roles, tenant, request_id, outcome,
              reason, committed, xmin::text AS xmin
         FROM audit_log WHERE object_id = $1 OR ($2 <> '' AND request_id = $2) ORDER BY sequence`,
      [key, requestId],
    );
    return rows;
  }

  async function thingXmin(key: string): Promise<string | undefined> {
    const { rows } = await db.query<{ xmin: string }>(
      `SELECT xmin::text AS xmin FROM thing WHERE key = $1`,
      [key],
    );
    return rows[0]?.xmin;
  }

  it('serves its unary RPCs from the grpc-js server directly, through this same pipeline', () => {
    // Every test in this file then runs on the direct path: Mutate has no Nest enhancer of its own.
    const dispatch = server.service.app.get<DirectDispatch>(DIRECT_DISPATCH, { strict: false });
    const toStatus = (error: unknown) =>
      new GrpcExceptionFilter('kit-probe.cinode').toPayload(error);
    expect(dispatch.unary('/cinode.testing.v1.ProbeService/Mutate', toStatus)).toBeInstanceOf(
      Function,
    );
    expect(
      dispatch.unary('/cinode.audit.v1.AuditService/ListAuditRecords', toStatus),
    ).toBeInstanceOf(Function);
    expect(
      dispatch.unary('/cinode.testing.v1.ProbeService/NoSuchMethod', toStatus),
    ).toBeUndefined();
  });

  it('writes exactly one record for a change, in the transaction of the change', async () => {
    const request = mutation();
    await expect(operator.probe.api.mutate(request)).resolves.toEqual({
      key: request.key,
      created: true,
    });
    const rows = await recordsFor(request.key);
    expect(rows).toEqual([
      expect.objectContaining({
        method: MUTATE,
        object_type: 'thing',
        object_id: request.key,
        actor: 'op-1',
        actor_roles: 'operator',
        tenant: 'op-1',
        outcome: 'OK',
        reason: '',
        committed: true,
      }),
    ]);
    // xmin is the id of the transaction that inserted a row: the record and the change share one.
    expect(rows[0].xmin).toBe(await thingXmin(request.key));
  });

  it('records refused and invalid calls, one record each, none of them committed', async () => {
    const anonymous = server.clientAs('');
    const user = server.clientAs(await auth.token(['user'], 'u-9'));
    const cases = [
      {
        client: anonymous,
        behaviour: '',
        code: GrpcStatus.UNAUTHENTICATED,
        reason: 'TOKEN_MISSING',
        actor: '',
      },
      {
        client: user,
        behaviour: '',
        code: GrpcStatus.PERMISSION_DENIED,
        reason: 'ROLE_NOT_ALLOWED',
        actor: 'u-9',
      },
      {
        client: operator,
        behaviour: 'validation',
        code: GrpcStatus.INVALID_ARGUMENT,
        reason: 'INVALID_REQUEST',
        actor: 'op-1',
      },
    ];
    for (const { client, behaviour, code, reason, actor } of cases) {
      const request = mutation({ requestId: randomUUID(), behaviour });
      await expectGrpcError(client.probe.api.mutate(request), code);
      expect(await recordsFor('-', request.requestId)).toEqual([
        expect.objectContaining({
          method: MUTATE,
          actor,
          request_id: request.requestId,
          outcome: GrpcStatus[code],
          reason,
          committed: false,
        }),
      ]);
      expect(await thingXmin(request.key)).toBeUndefined();
    }
  });

  it('keeps the record of a call whose fields Postgres could not store as sent', async () => {
    // NUL and a lone surrogate: an insert carrying either fails, which would erase the record.
    const requestId = `${randomUUID()}\u0000\uD800`;
    await expectGrpcError(
      operator.probe.api.mutate(mutation({ requestId, behaviour: 'validation' })),
      GrpcStatus.INVALID_ARGUMENT,
    );
    const { rows } = await db.query<AuditRow>(
      `SELECT request_id, outcome, actor FROM audit_log WHERE starts_with(request_id, $1)`,
      [requestId.slice(0, 36)],
    );
    // The wire already turns the lone surrogate into U+FFFD (one per byte); the trail does the NUL.
    expect(rows).toEqual([
      {
        request_id: expect.stringMatching(new RegExp(`^${requestId.slice(0, 36)}\uFFFD+$`)),
        outcome: 'INVALID_ARGUMENT',
        actor: 'op-1',
      },
    ]);
  });

  it('refuses control characters in any string, and bytes that are no message, as INVALID_ARGUMENT', async () => {
    const request = mutation({ requestId: randomUUID(), key: `k\u0000${randomUUID()}` });
    const { status } = await expectGrpcError(
      operator.probe.api.mutate(request),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(status?.fieldViolations).toEqual([
      { field: 'key', description: 'must not contain control characters' },
    ]);
    expect(await recordsFor('-', request.requestId)).toEqual([
      expect.objectContaining({ outcome: 'INVALID_ARGUMENT', reason: 'INVALID_REQUEST' }),
    ]);

    // A tag with no length or value after it.
    const undecodable = Buffer.from([0x0a]);
    const raw = new RawGrpcClient(`127.0.0.1:${server.service.port}`, credentials.createInsecure());
    try {
      const error = await new Promise<ServiceError>((resolve, reject) => {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${operatorToken}`);
        raw.makeUnaryRequest(
          MUTATE,
          (bytes: Buffer) => bytes,
          (bytes: Buffer) => bytes,
          undecodable,
          metadata,
          (err) => (err ? resolve(err) : reject(new Error('an undecodable request succeeded'))),
        );
      });
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details).toMatch(/^the request is not a valid MutateRequest message: /);
      expect(decodeRichStatus(error)?.errorInfo?.reason).toBe('UNDECODABLE_REQUEST');
    } finally {
      raw.close();
    }
  });

  it('answers a retry from the first result, and refuses the request id for other content', async () => {
    const request = mutation({ requestId: randomUUID() });
    const [first, second] = await Promise.all([
      operator.probe.api.mutate(request),
      operator.probe.api.mutate(request),
    ]);
    expect([first, second].map((r) => r.key)).toEqual([request.key, request.key]);
    expect([first.created, second.created].sort()).toEqual([false, true]);
    const again = await operator.probe.api.mutate(request);
    expect(again).toEqual({ key: request.key, created: false });
    const { status } = await expectGrpcError(
      operator.probe.api.mutate({ ...request, key: randomUUID() }),
      GrpcStatus.ALREADY_EXISTS,
    );
    expect(status?.errorInfo?.reason).toBe('REQUEST_ID_REUSED');

    const rows = await recordsFor(request.key, request.requestId);
    expect(rows.map((r) => [r.object_id, r.outcome, r.committed])).toEqual([
      [request.key, 'OK', true],
      [request.key, 'OK', false],
      [request.key, 'OK', false],
      ['', 'ALREADY_EXISTS', false],
    ]);
    // Another caller's identical request id is its own.
    const provider = server.clientAs(await auth.token(['provider'], 'p-2'));
    const other = await provider.probe.api.mutate({ ...request, key: randomUUID() });
    expect(other.created).toBe(true);
  });

  it('rolls back work its deadline cuts off, at once, and records that nothing changed', async () => {
    const request = mutation({
      requestId: randomUUID(),
      behaviour: 'slow_in_transaction',
      delayMs: 10_000,
    });
    const started = Date.now();
    const { details } = await expectGrpcError(
      operator.probe.api.mutate(request),
      GrpcStatus.DEADLINE_EXCEEDED,
    );
    const elapsed = Date.now() - started;
    expect(details).toBe('deadline of 500 ms exceeded');
    // The statement was cancelled, not waited out (pg_sleep would take 10 s).
    expect(elapsed).toBeLessThan(1_400);
    expect(await thingXmin(request.key)).toBeUndefined();
    expect(await recordsFor('-', request.requestId)).toEqual([
      expect.objectContaining({ outcome: 'DEADLINE_EXCEEDED', committed: false, object_id: '' }),
    ]);
  });

  it('tells the truth about a change that committed before the call failed', async () => {
    const failing = mutation({ behaviour: 'fail_after_commit' });
    await expectGrpcError(operator.probe.api.mutate(failing), GrpcStatus.INTERNAL);
    expect(await thingXmin(failing.key)).toBeDefined();
    // The trail is append-only: the change's record stands, and a settlement follows it.
    expect(await recordsFor(failing.key)).toEqual([
      expect.objectContaining({ outcome: 'OK', reason: '', committed: true }),
      expect.objectContaining({ outcome: 'INTERNAL', reason: 'INTERNAL', committed: true }),
    ]);

    // Committed, then still busy past the deadline and the grace period: the caller hears
    // DEADLINE_EXCEEDED, and once the handler is done the record says so, and that it committed.
    const lingering = mutation({ behaviour: 'sleep_after_commit', delayMs: 2_500 });
    await expectGrpcError(operator.probe.api.mutate(lingering), GrpcStatus.DEADLINE_EXCEEDED);
    expect(await thingXmin(lingering.key)).toBeDefined();
    // The record is settled after the answer, once the handler lets go.
    const rows = await eventually('the settlement record', async () => {
      const r = await recordsFor(lingering.key);
      return r.length === 2 ? r : undefined;
    });
    expect(rows).toEqual([
      expect.objectContaining({ outcome: 'OK', committed: true }),
      expect.objectContaining({ outcome: 'DEADLINE_EXCEEDED', committed: true }),
    ]);
  });

  it('lets operators and regulators page through the trail, newest first, and nobody else', async () => {
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    for (const key of keys) await operator.probe.api.mutate(mutation({ key }));
    const regulator = server.clientAs(await auth.token(['regulator'], 'reg-1'));
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await regulator.audit.api.listAuditRecords({
        pageSize: 2,
        pageToken,
        actor: 'op-1',
        objectType: 'thing',
        objectId: '',
        method: MUTATE,
        outcome: 'OK',
        startTime: undefined,
        endTime: undefined,
      });
      expect(page.records.length).toBeLessThanOrEqual(2);
      seen.push(...page.records.map((r) => r.objectId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen.slice(0, 3)).toEqual([...keys].reverse());

    // A token is the service's signed word: an altered or made-up one is INVALID_ARGUMENT.
    const listing = {
      pageSize: 1,
      actor: 'op-1',
      objectType: '',
      objectId: '',
      method: '',
      outcome: '',
      startTime: undefined,
      endTime: undefined,
    };
    const { nextPageToken } = await regulator.audit.api.listAuditRecords({
      ...listing,
      pageToken: '',
    });
    const [body, mac] = nextPageToken.split('.');
    const forged = Buffer.from(JSON.stringify({ a: 'not-a-number', i: 'x' })).toString('base64url');
    for (const pageToken of [`${forged}.${mac}`, `${body}.${mac.slice(1)}`, body]) {
      const { status } = await expectGrpcError(
        regulator.audit.api.listAuditRecords({ ...listing, pageToken }),
        GrpcStatus.INVALID_ARGUMENT,
      );
      expect(status?.fieldViolations).toEqual([
        { field: 'page_token', description: 'is not a token issued for this query' },
      ]);
    }
    const provider = server.clientAs(await auth.token(['provider'], 'p-3'));
    await expectGrpcError(
      provider.audit.api.listAuditRecords({
        pageSize: 0,
        pageToken: '',
        actor: '',
        objectType: '',
        objectId: '',
        method: '',
        outcome: '',
        startTime: undefined,
        endTime: undefined,
      }),
      GrpcStatus.PERMISSION_DENIED,
    );
  });
});

/**
 * A kit probe started with `env` around the tests of the describe block this is called in, and a
 * client of its database.
 */
function probeWithDatabase(env: Record<string, string>): {
  auth: TestAuth;
  server: KitProbeServer;
  db: Client;
} {
  const probe = {} as { auth: TestAuth; server: KitProbeServer; db: Client };
  beforeAll(async () => {
    probe.auth = await createTestAuth();
    probe.server = await startKitProbe(probe.auth, env);
    probe.db = new Client({ connectionString: probe.server.databaseUrl });
    await probe.db.connect();
  });
  afterAll(async () => {
    await probe.db?.end();
    await probe.server?.stop();
  });
  return probe;
}

/** What one of the counters of refusals left out of the audit trail counted for Mutate. */
async function mutateCount(counter: typeof auditSuppressed): Promise<number> {
  return (
    (await counter.get()).values.find((v) => v.labels.rpc === 'ProbeService/Mutate')?.value ?? 0
  );
}

describe(`${CallPipeline.name}: refusals of calls no token identifies, bounded per address`, () => {
  const probe = probeWithDatabase({ AUDIT_UNAUTHENTICATED_PER_MINUTE: '5' });
  const suppressed = () => mutateCount(auditSuppressed);

  it('records an address’s first refusals of the minute, answers every one alike, and counts the rest', async () => {
    const marker = randomUUID();
    const before = await suppressed();
    const refused = [probe.server.clientAs(''), probe.server.clientAs('not.a.token')];
    for (let i = 0; i < 12; i += 1) {
      const error = await expectGrpcError(
        refused[i % 2].probe.api.mutate({
          requestId: `${marker}-${i}`,
          key: randomUUID(),
          behaviour: '',
          delayMs: 0,
        }),
        GrpcStatus.UNAUTHENTICATED,
      );
      expect(error.status?.errorInfo?.reason).toMatch(/^TOKEN_/);
    }
    const { rows } = await probe.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_log WHERE starts_with(request_id, $1)`,
      [marker],
    );
    expect(Number(rows[0].n)).toBe(5);
    expect((await suppressed()) - before).toBe(7);
    // Known callers are recorded whatever the address spent: a refused one names who it was.
    const user = probe.server.clientAs(await probe.auth.token(['user'], 'u-over'));
    const operator = probe.server.clientAs(await probe.auth.token(['operator'], 'op-over'));
    const denied = `${marker}-user`;
    await expectGrpcError(
      user.probe.api.mutate({ requestId: denied, key: randomUUID(), behaviour: '', delayMs: 0 }),
      GrpcStatus.PERMISSION_DENIED,
    );
    const key = randomUUID();
    await operator.probe.api.mutate({ requestId: '', key, behaviour: '', delayMs: 0 });
    const known = await probe.db.query<{ actor: string; outcome: string }>(
      `SELECT actor, outcome FROM audit_log WHERE request_id = $1 OR object_id = $2 ORDER BY sequence`,
      [denied, key],
    );
    expect(known.rows).toEqual([
      { actor: 'u-over', outcome: 'PERMISSION_DENIED' },
      { actor: 'op-over', outcome: 'OK' },
    ]);
  });
});

describe(`${CallPipeline.name}: a participant's refusals for volume, bounded per participant`, () => {
  const probe = probeWithDatabase({
    // One call a second (no burst above it) and three recorded refusals a minute per participant.
    GRPC_PARTICIPANT_RATE_LIMIT: '1',
    GRPC_PARTICIPANT_BURST: '1',
    AUDIT_CALLER_REFUSALS_PER_MINUTE: '3',
  });
  const suppressed = () => mutateCount(auditParticipantRefusalsSuppressed);

  /** Mutate calls of one participant at once: their statuses, and the marker of their ids. */
  async function burst(
    tenant: string,
    calls: number,
  ): Promise<{ codes: string[]; marker: string }> {
    const client = probe.server.clientAs(await probe.auth.token(['provider'], tenant, tenant));
    const marker = randomUUID();
    const codes = await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        client.probe.api
          .mutate({ requestId: `${marker}-${i}`, key: randomUUID(), behaviour: '', delayMs: 0 })
          .then(
            () => 'OK',
            (error: unknown) => {
              if (!isGrpcError(error)) throw error;
              return GrpcStatus[error.code];
            },
          ),
      ),
    );
    return { codes, marker };
  }

  /** The outcomes recorded for a burst's calls, counted. */
  async function recorded(marker: string): Promise<Record<string, number>> {
    const { rows } = await probe.db.query<{ outcome: string; reason: string | null; n: string }>(
      `SELECT outcome, reason, count(*) AS n FROM audit_log
       WHERE starts_with(request_id, $1) GROUP BY 1, 2`,
      [marker],
    );
    return Object.fromEntries(rows.map((r) => [`${r.outcome}/${r.reason ?? ''}`, Number(r.n)]));
  }

  it('records the first refusals of its minute, answers every one alike, and counts the rest; another participant has its own budget', async () => {
    const before = await suppressed();
    const flood = await burst('prov-flood', 10);
    // One call a second: the burst's first runs, the others arrive over the rate (a slow machine
    // may let one more through a second later).
    const ok = flood.codes.filter((c) => c === 'OK').length;
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(2);
    expect(flood.codes.filter((c) => c !== 'OK')).toEqual(
      Array(10 - ok).fill('RESOURCE_EXHAUSTED'),
    );
    expect(await recorded(flood.marker)).toEqual({
      'OK/': ok,
      'RESOURCE_EXHAUSTED/RATE_LIMITED': 3,
    });
    expect((await suppressed()) - before).toBe(10 - ok - 3);

    const other = await burst('prov-other', 3);
    const otherOk = other.codes.filter((c) => c === 'OK').length;
    expect(await recorded(other.marker)).toEqual({
      'OK/': otherOk,
      'RESOURCE_EXHAUSTED/RATE_LIMITED': 3 - otherOk,
    });
  });
  // Last: it stops the service.
  it('writes the summary of its unfinished minute when the service stops', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const before = await suppressed();
      await burst('prov-stopping', 8);
      const left = (await suppressed()) - before;
      expect(left).toBeGreaterThan(0);
      const summaries = () =>
        warn.mock.calls
          .map(([line]) => String(line))
          .filter((line) => line.includes('were counted'));
      expect(summaries()).toEqual([]);
      await probe.server.stop();
      expect(summaries()).toHaveLength(1);
      expect(summaries()[0]).toContain(`prov-stopping RATE_LIMITED ${left}`);
    } finally {
      warn.mockRestore();
    }
  });
});
