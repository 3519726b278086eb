import { status as GrpcStatus } from '@grpc/grpc-js';
import { LineUpdated, type LineData } from '@cinode/contracts';
import { decodeEnvelope } from '@cinode/events';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import {
  LineHoldState,
  type LineServiceClient,
} from '@cinode/proto/gen/cinode/selection/v1/line_service';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  eventually,
  expectGrpcError,
  findFreePort,
  plaintext,
  startTestNats,
  type TestAuth,
  type TestNats,
  inProcessServiceSettings,
} from '@cinode/testing';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import { LineHoldSweeper } from '../src/lines/line-hold.sweeper';
import { computeSelectionService } from '../src/service';

const LINE_ID = 'CN.R0001.LN.000000011';
const IDLE_LINE = 'CN.R0001.LN.000000029';

let nats: TestNats;
let auth: TestAuth;
let nc: NatsConnection;
let db: Client;
let service: RunningGrpcService;
let client: GrpcClient<LineServiceClient>;
let market: string;
let otherService: string;
let updates: Subscription;
const updated: LineData[] = [];

async function insertLine(lineId: string, free: number, outOfService = false): Promise<void> {
  const now = new Date();
  await db.query(
    `INSERT INTO line (line_id, provider_participant_id, name, a_region_code, a_site, b_region_code,
       b_site, bandwidth_mbps_total, bandwidth_mbps_free, bandwidth_mbps_reserved, latency_ms,
       price_fen_per_hour, availability, out_of_service, filing, version, spec_version, registered_at,
       updated_at)
     VALUES ($1, 'line-provider-1', 'Shanghai-Beijing', '310000', 'sh-1', '110000', 'bj-1', 10000,
       $2, 0, 12, 300, 0.9995, $3, 'filed', 1, 1, $4, $4)`,
    [lineId, free, outOfService, now],
  );
}

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  nc = await connect({ servers: nats.url });
  const databaseUrl = await createTestDatabase('selection');
  const port = await findFreePort();
  const config = computeSelectionService.loadConfig({
    ...inProcessServiceSettings({
      databaseUrl,
      natsUrl: nats.url,
      publicKeys: auth.publicKeys,
      port,
    }),
    // V8's own heap growth: the flag would apply to the whole test process.
    HEAP_GROWING_PERCENT: '0',
    // Nothing here needs the offer index or new line identifiers.
    RESOURCE_AGGREGATION_ADDRESS: '127.0.0.1:1',
    IDENTIFIER_ADDRESS: '127.0.0.1:1',
    LINE_HOLD_SWEEP_INTERVAL_MS: '200',
  });
  service = await startService(
    computeSelectionService,
    config,
    createLogger({ service: 'compute-selection', level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  client = createGrpcClient<LineServiceClient>('cinode.selection.v1.LineService', {
    address: `127.0.0.1:${port}`,
    credentials: plaintext(),
    defaultTimeoutMs: 10_000,
  });
  market = await auth.token(['service'], 'service-center');
  otherService = await auth.token(['service'], 'security');
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await insertLine(LINE_ID, 1_000);
  await insertLine(IDLE_LINE, 1_000, true);
  updates = nc.subscribe(LineUpdated.type);
  void (async () => {
    for await (const message of updates)
      updated.push(decodeEnvelope(message.data).data as LineData);
  })();
}, 60_000);

afterAll(async () => {
  updates?.unsubscribe();
  client?.close();
  await db?.end();
  await service?.stop();
  await nc?.drain();
  await nats?.stop();
});

const as = (token: string) => ({ metadata: bearer(token) });

function hold(requestId: string, mbps: number, extra: { ttlSeconds?: number } = {}) {
  return client.api.holdLineBandwidth(
    {
      requestId,
      lineId: LINE_ID.toLowerCase(),
      orderReference: `order-${requestId}`,
      bandwidthMbps: mbps,
      ttlSeconds: extra.ttlSeconds ?? 60,
      durationHours: 72,
    },
    as(market),
  );
}

async function reserved(lineId = LINE_ID): Promise<number> {
  const { line } = await client.api.getLine({ lineId }, as(market));
  return line!.bandwidthMbpsReserved;
}

describe('line holds (bandwidth of dedicated lines reserved for orders)', () => {
  let kept: string[] = [];
  let winner = '';

  it('lets 20 racing holds of 100 Mbit/s take exactly the 1,000 free, never more', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => hold(`race-${i}`, 100)),
    );
    const won: Array<{ requestId: string; holdId: string }> = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled')
        won.push({ requestId: `race-${i}`, holdId: outcome.value.hold!.holdId });
      else {
        const error = outcome.reason as { code: number; details: string };
        expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
        expect(error.details).toMatch(/Mbit\/s free/);
      }
    });
    expect(won).toHaveLength(10);
    winner = won[0].requestId;
    kept = won.map((w) => w.holdId);
    expect(await reserved()).toBe(1_000);
    const { rows } = await db.query<{ sum: string }>(
      `SELECT sum(bandwidth_mbps) AS sum FROM line_hold WHERE line_id = $1 AND state = 'held'`,
      [LINE_ID],
    );
    expect(Number(rows[0].sum)).toBe(1_000);
    // Every change of what is reserved is a new version of the line, with its event.
    // (Events may arrive out of order: the newest version is what counts.)
    await eventually('the line events', () => {
      const newest = updated
        .filter((u) => u.lineId === LINE_ID)
        .reduce<LineData | undefined>((a, b) => (a && a.version > b.version ? a : b), undefined);
      return Promise.resolve(
        newest?.bandwidthMbpsReserved === 1_000 && newest.version === 11 ? true : undefined,
      );
    });
  });

  it('answers a retry with the first hold, and a request id reused for another hold ALREADY_EXISTS', async () => {
    const first = await client.api.getLine({ lineId: LINE_ID }, as(market));
    const retry = await hold(winner, 100);
    expect(retry.created).toBe(false);
    expect(retry.hold!.holdId).toBe(kept[0]);
    expect(await reserved()).toBe(1_000);
    expect((await client.api.getLine({ lineId: LINE_ID }, as(market))).line!.version).toBe(
      first.line!.version,
    );
    await expectGrpcError(hold(winner, 200), GrpcStatus.ALREADY_EXISTS);
  });

  it('keeps what is reserved when the provider updates the line', async () => {
    const owner = await auth.token(['line_provider'], 'line-provider-1-key', 'line-provider-1');
    const { line } = await client.api.updateLine(
      {
        lineId: LINE_ID,
        spec: {
          name: '',
          endpointA: undefined,
          endpointB: undefined,
          bandwidthMbpsTotal: 0,
          bandwidthMbpsFree: 0,
          latencyMs: 11,
          priceFenPerHour: 0,
          availability: 0,
          outOfService: false,
        },
        updateMask: ['latency_ms'],
        expectedVersion: 0,
        expectedSpecVersion: 0,
      },
      as(owner),
    );
    expect([line!.spec!.latencyMs, line!.bandwidthMbpsReserved]).toEqual([11, 1_000]);

    // Orders' holds move `version` but not `spec_version`: a provider checking its own figures'
    // version is not ABORTED by them, one checking `version` is.
    const update = (
      change: { latencyMs?: number; bandwidthMbpsFree?: number },
      expectedVersion: number,
      expectedSpecVersion: number,
    ) =>
      client.api.updateLine(
        {
          lineId: LINE_ID,
          spec: { ...line!.spec!, ...change },
          updateMask: Object.keys(change).map((k) =>
            k === 'latencyMs' ? 'latency_ms' : 'bandwidth_mbps_free',
          ),
          expectedVersion,
          expectedSpecVersion,
        },
        as(owner),
      );
    // One Mbit/s more free, for a hold of one.
    const { line: roomy } = await update({ bandwidthMbpsFree: 1_001 }, 0, line!.specVersion);
    expect(roomy!.specVersion).toBe(line!.specVersion + 1);
    const { hold: extra } = await hold('spec-version', 1);
    const moved = (await client.api.getLine({ lineId: LINE_ID }, as(owner))).line!;
    expect(moved.version).toBeGreaterThan(roomy!.version);
    expect(moved.specVersion).toBe(roomy!.specVersion);
    const aborted = await expectGrpcError(
      update({ latencyMs: 12 }, roomy!.version, 0),
      GrpcStatus.ABORTED,
    );
    expect(aborted.status?.errorInfo?.reason).toBe('VERSION_MISMATCH');
    const { line: updated } = await update({ latencyMs: 12 }, 0, roomy!.specVersion);
    expect([updated!.spec!.latencyMs, updated!.specVersion]).toEqual([12, roomy!.specVersion + 1]);
    // Figures read before the provider's own last change are stale: that still aborts.
    const stale = await expectGrpcError(
      update({ latencyMs: 13 }, 0, roomy!.specVersion),
      GrpcStatus.ABORTED,
    );
    expect(stale.status?.errorInfo?.metadata?.current_spec_version).toBe(
      String(roomy!.specVersion + 1),
    );
    // Back as the tests after this one expect it: 1,000 free, 1,000 reserved.
    await client.api.releaseLineHold({ holdId: extra!.holdId, reason: 'test' }, as(market));
    await update({ latencyMs: 11, bandwidthMbpsFree: 1_000 }, 0, 0);
    expect(await reserved()).toBe(1_000);
  });

  it('gives bandwidth back on release, once; only its holder releases it', async () => {
    const denied = await expectGrpcError(
      client.api.releaseLineHold({ holdId: kept[0], reason: 'not mine' }, as(otherService)),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(denied.status?.errorInfo?.reason).toBe('NOT_HOLDER');
    const { hold: released } = await client.api.releaseLineHold(
      { holdId: kept[0], reason: 'order cancelled' },
      as(market),
    );
    expect(released!.state).toBe(LineHoldState.LINE_HOLD_STATE_RELEASED);
    expect(await reserved()).toBe(900);
    await client.api.releaseLineHold({ holdId: kept[0], reason: 'again' }, as(market));
    expect(await reserved()).toBe(900);
    const notActive = await expectGrpcError(
      client.api.confirmLineHold({ holdId: kept[0] }, as(market)),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(notActive.status?.errorInfo?.reason).toBe('LINE_HOLD_NOT_ACTIVE');
  });

  it('confirms a hold until released; a hold left unconfirmed expires and its bandwidth comes back', async () => {
    await expectGrpcError(
      client.api.confirmLineHold({ holdId: kept[1] }, as(otherService)),
      GrpcStatus.PERMISSION_DENIED,
    );
    const { hold: confirmed } = await client.api.confirmLineHold({ holdId: kept[1] }, as(market));
    expect(confirmed!.state).toBe(LineHoldState.LINE_HOLD_STATE_CONFIRMED);
    const hours = (Number(confirmed!.expiresAt!.seconds) * 1000 - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(71.9);
    expect(hours).toBeLessThanOrEqual(72);
    // Past its planned end, a confirmed hold still holds: its task may start late or run long.
    await db.query(
      `UPDATE line_hold SET expires_at = now() - interval '1 hour' WHERE hold_id = $1`,
      [kept[1]],
    );
    // Release the other eight, then hold 100 for one second and let the sweep expire it.
    for (const holdId of kept.slice(2))
      await client.api.releaseLineHold({ holdId, reason: 'done' }, as(market));
    expect(await reserved()).toBe(100);
    const { hold: brief } = await hold('brief', 100, { ttlSeconds: 1 });
    expect(await reserved()).toBe(200);
    await eventually(
      'the brief hold to expire',
      async () => ((await reserved()) === 100 ? true : undefined),
      10_000,
    );
    const expired = await expectGrpcError(
      client.api.confirmLineHold({ holdId: brief!.holdId }, as(market)),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(expired.status?.errorInfo?.metadata?.current_state).toBe('EXPIRED');
    const { rows } = await db.query<{ state: string }>(
      `SELECT state FROM line_hold WHERE hold_id = $1`,
      [kept[1]],
    );
    expect(rows).toEqual([{ state: 'confirmed' }]);
  });

  it('refuses a line out of service, a missing line, and malformed requests field by field', async () => {
    const idle = await expectGrpcError(
      client.api.holdLineBandwidth(
        {
          requestId: 'idle',
          lineId: IDLE_LINE,
          orderReference: 'o',
          bandwidthMbps: 1,
          ttlSeconds: 0,
          durationHours: 1,
        },
        as(market),
      ),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(idle.status?.errorInfo?.reason).toBe('LINE_NOT_USABLE');
    await expectGrpcError(
      client.api.holdLineBandwidth(
        {
          requestId: 'missing',
          lineId: 'CN.R0001.LN.000000037',
          orderReference: 'o',
          bandwidthMbps: 1,
          ttlSeconds: 0,
          durationHours: 1,
        },
        as(market),
      ),
      GrpcStatus.NOT_FOUND,
    );
    const bad = await expectGrpcError(
      client.api.holdLineBandwidth(
        {
          requestId: 'bad id!',
          lineId: LINE_ID,
          orderReference: '',
          bandwidthMbps: 0,
          ttlSeconds: 7_200,
          durationHours: 0,
        },
        as(market),
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(bad.status?.fieldViolations?.map((v) => v.field).sort()).toEqual([
      'bandwidth_mbps',
      'duration_hours',
      'order_reference',
      'request_id',
      'ttl_seconds',
    ]);
    expect(await reserved()).toBe(100);
  });

  it('lets only the services that place orders hold a line: another node service is refused', async () => {
    const refused = await expectGrpcError(
      client.api.holdLineBandwidth(
        {
          requestId: 'not-a-holder',
          lineId: LINE_ID,
          orderReference: 'o',
          bandwidthMbps: 1,
          ttlSeconds: 0,
          durationHours: 1,
        },
        as(otherService),
      ),
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(refused.status?.errorInfo?.reason).toBe('NOT_A_LINE_HOLDER');
  });

  it('admits only the node services: a line provider or operator token is refused', async () => {
    for (const roles of [['line_provider'], ['operator'], ['regulator']] as const) {
      const token = await auth.token([...roles], `${roles[0]}-1`, 'participant-1');
      await expectGrpcError(
        client.api.holdLineBandwidth(
          {
            requestId: `role-${roles[0]}`,
            lineId: LINE_ID,
            orderReference: 'o',
            bandwidthMbps: 1,
            ttlSeconds: 0,
            durationHours: 1,
          },
          { metadata: bearer(token) },
        ),
        GrpcStatus.PERMISSION_DENIED,
      );
    }
  });

  it('lists holds oldest first, by line and state, page by page, to operators and regulators', async () => {
    const operator = as(await auth.token(['operator'], 'op-1'));
    const regulator = as(await auth.token(['regulator'], 'reg-1'));
    const stored = async (state?: string): Promise<string[]> =>
      (
        await db.query<{ hold_id: string }>(
          `SELECT hold_id FROM line_hold WHERE line_id = $1 AND ($2::text IS NULL OR state = $2)
           ORDER BY created_at, hold_id`,
          [LINE_ID, state ?? null],
        )
      ).rows.map((r) => r.hold_id);
    const listed = async (
      state: LineHoldState,
      caller: { metadata: ReturnType<typeof bearer> },
    ): Promise<string[]> => {
      const ids: string[] = [];
      let pageToken = '';
      for (let page = 0; page < 20; page += 1) {
        const response = await client.api.listLineHolds(
          // Any letter case names the line.
          { lineId: LINE_ID.toLowerCase(), state, pageSize: 7, pageToken },
          caller,
        );
        expect(response.holds.length).toBeLessThanOrEqual(7);
        for (const hold of response.holds) {
          expect(hold.lineId).toBe(LINE_ID);
          if (state !== LineHoldState.LINE_HOLD_STATE_UNSPECIFIED) expect(hold.state).toBe(state);
          ids.push(hold.holdId);
        }
        pageToken = response.nextPageToken;
        if (!pageToken) return ids;
      }
      throw new Error('more than 20 pages');
    };
    const all = await stored();
    // The tests before made holds of every kind on the line: more than a page of them.
    expect(all.length).toBeGreaterThan(7);
    expect(await listed(LineHoldState.LINE_HOLD_STATE_UNSPECIFIED, operator)).toEqual(all);
    expect(await listed(LineHoldState.LINE_HOLD_STATE_CONFIRMED, regulator)).toEqual(
      await stored('confirmed'),
    );
    expect(await listed(LineHoldState.LINE_HOLD_STATE_RELEASED, as(market))).toEqual(
      await stored('released'),
    );
    const { holds: idle } = await client.api.listLineHolds(
      { lineId: IDLE_LINE, state: 0, pageSize: 0, pageToken: '' },
      operator,
    );
    expect(idle).toEqual([]);

    // A token of one filter is not valid with another; bad values name their field.
    const { nextPageToken } = await client.api.listLineHolds(
      { lineId: LINE_ID, state: 0, pageSize: 1, pageToken: '' },
      operator,
    );
    expect(nextPageToken).not.toBe('');
    const misused = await expectGrpcError(
      client.api.listLineHolds(
        { lineId: '', state: 0, pageSize: 1, pageToken: nextPageToken },
        operator,
      ),
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(misused.status?.fieldViolations?.map((v) => v.field)).toEqual(['page_token']);
    for (const [request, field] of [
      [{ lineId: 'not a line', state: 0 }, 'line_id'],
      [{ lineId: '', state: 99 as LineHoldState }, 'state'],
    ] as const) {
      const refused = await expectGrpcError(
        client.api.listLineHolds({ ...request, pageSize: 0, pageToken: '' }, operator),
        GrpcStatus.INVALID_ARGUMENT,
      );
      expect(refused.status?.fieldViolations?.map((v) => v.field)).toEqual([field]);
    }
  });
});

describe('a hold past its time that the sweep has not reached', () => {
  // Last in the file: the sweep stays stopped from here on.
  beforeAll(() => service.app.get(LineHoldSweeper).beforeApplicationShutdown());

  it('reserves nothing any more: a new hold may take its bandwidth', async () => {
    const line = 'CN.R0001.LN.000000037';
    await insertLine(line, 300);
    const take = (requestId: string, mbps: number) =>
      client.api.holdLineBandwidth(
        {
          requestId,
          lineId: line,
          orderReference: `order-${requestId}`,
          bandwidthMbps: mbps,
          ttlSeconds: 60,
          durationHours: 1,
        },
        as(market),
      );
    const { hold: first } = await take('first-of-two', 200);
    await expectGrpcError(take('refused-while-held', 200), GrpcStatus.RESOURCE_EXHAUSTED);
    await db.query(
      `UPDATE line_hold SET expires_at = now() - interval '1 second' WHERE hold_id = $1`,
      [first!.holdId],
    );
    const { hold: second } = await take('second-of-two', 200);
    expect(second!.state).toBe(LineHoldState.LINE_HOLD_STATE_HELD);
    expect(await reserved(line)).toBe(200);
    const { rows } = await db.query<{ state: string }>(
      `SELECT state FROM line_hold WHERE hold_id = $1`,
      [first!.holdId],
    );
    expect(rows).toEqual([{ state: 'expired' }]);
  });
});
