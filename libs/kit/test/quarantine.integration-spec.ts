import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { QUARANTINE_BUCKET } from '@cinode/contracts';
import { isGrpcError, decodeRichStatus } from '@cinode/grpc';
import { QuarantineList } from '@cinode/kit';
import {
  createTestAuth,
  eventually,
  expectGrpcError,
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { connect, type KV, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { openCount, startKitProbe, type KitProbeServer } from './kit-probe';

describe(`${QuarantineList.name}: a quarantined participant's calls are refused`, () => {
  let auth: TestAuth;
  let nats: TestNats;
  let nc: NatsConnection;
  let kv: KV;
  let server: KitProbeServer;
  let db: Client;

  beforeAll(async () => {
    auth = await createTestAuth();
    nats = await startTestNats();
    server = await startKitProbe(auth, { NATS_URL: nats.url });
    db = new Client({ connectionString: server.databaseUrl });
    await db.connect();
    nc = await connect({ servers: nats.url });
    // The service created the bucket when it started (the security service would have otherwise).
    kv = await nc.jetstream().views.kv(QUARANTINE_BUCKET, { bindOnly: true });
  });

  afterAll(async () => {
    await nc?.close();
    await db?.end();
    await server?.stop();
    await nats?.stop();
  });

  /** The reason the Mutate call of this client was refused with, or 'served'. */
  async function outcomeOf(client: ReturnType<KitProbeServer['clientAs']>): Promise<string> {
    try {
      await client.probe.api.mutate({
        requestId: '',
        key: randomUUID(),
        behaviour: '',
        delayMs: 0,
      });
      return 'served';
    } catch (error) {
      if (!isGrpcError(error)) throw error;
      return `${GrpcStatus[error.code]}/${decodeRichStatus(error)?.errorInfo?.reason ?? ''}`;
    }
  }

  it('refuses the participant within a second of its key being put, and serves it again once deleted', async () => {
    const provider = server.clientAs(await auth.token(['provider'], 'prov-q', 'prov-q'));
    const other = server.clientAs(await auth.token(['provider'], 'prov-ok', 'prov-ok'));
    const operator = server.clientAs(await auth.token(['operator'], 'prov-q'));
    expect(await outcomeOf(provider)).toBe('served');

    await kv.put('prov-q', JSON.stringify({ quarantineId: randomUUID(), state: 'active' }));
    await eventually(
      'the participant is refused',
      async () =>
        (await outcomeOf(provider)) === 'PERMISSION_DENIED/PARTICIPANT_QUARANTINED'
          ? true
          : undefined,
      1_000,
      20,
    );
    const refused = await expectGrpcError(
      provider.probe.api.mutate({ requestId: '', key: randomUUID(), behaviour: '', delayMs: 0 }),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(refused.details).toContain('contact the node operator');
    expect(await outcomeOf(other)).toBe('served');
    // An operator is never refused, even one whose subject is a quarantined participant's id.
    expect(await outcomeOf(operator)).toBe('served');

    const { rows } = await db.query<{ actor: string; outcome: string; reason: string }>(
      `SELECT actor, outcome, reason FROM audit_log WHERE reason = 'PARTICIPANT_QUARANTINED'
        ORDER BY sequence`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]).toEqual({
      actor: 'prov-q',
      outcome: 'PERMISSION_DENIED',
      reason: 'PARTICIPANT_QUARANTINED',
    });

    await kv.delete('prov-q');
    await eventually(
      'the participant is served again',
      async () => ((await outcomeOf(provider)) === 'served' ? true : undefined),
      1_000,
      20,
    );
  });

  it('ends a participant’s open stream when it is quarantined, and lets a unary call in flight finish', async () => {
    const token = await auth.token(['provider'], 'prov-s', 'prov-s');
    const { probe } = server.clientAs(token);
    const stream = openCount(server, token, { count: 0, delayMs: 20 }, 30_000);
    let received = 0;
    const ended = new Promise<{ code: number; reason: string }>((resolve) => {
      stream.on('data', () => (received += 1));
      stream.on('error', (error) =>
        resolve({
          code: isGrpcError(error) ? error.code : -1,
          reason: decodeRichStatus(error as never)?.errorInfo?.reason ?? '',
        }),
      );
      stream.on('status', (status: { code: number }) => resolve({ code: status.code, reason: '' }));
    });
    await eventually('the stream flows', async () => (received >= 3 ? true : undefined), 5_000, 20);
    // A unary call in flight as well, Mutate holding its transaction for a while: it runs to its
    // end (cut mid-way, a change it committed would be answered as refused).
    const inFlight = outcomeOf({
      probe: {
        api: {
          mutate: () =>
            probe.api.mutate({
              requestId: '',
              key: randomUUID(),
              behaviour: 'slow_in_transaction',
              delayMs: 2_000,
            }),
        },
      },
    } as never);
    await eventually(
      'the call holds its transaction',
      async () => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'`,
        );
        return Number(rows[0].n) > 0 ? true : undefined;
      },
      5_000,
      20,
    );
    const at = Date.now();
    await kv.put('prov-s', JSON.stringify({ quarantineId: randomUUID(), state: 'active' }));
    expect(await ended).toEqual({
      code: GrpcStatus.PERMISSION_DENIED,
      reason: 'PARTICIPANT_QUARANTINED',
    });
    expect(Date.now() - at).toBeLessThan(3_000);
    expect(await inFlight).toBe('served');
    await kv.delete('prov-s');
  });
});
