import {
  PoolUpdated,
  RiskChanged,
  SECURITY_STREAM,
  eventOf,
  type PoolData,
  type RiskChangedData,
} from '@cinode/contracts';
import { createEnvelope, decodeEnvelope, encodeEnvelope, ensureOwnedStreams } from '@cinode/events';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { status as GrpcStatus } from '@grpc/grpc-js';
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
} from '@cinode/testing';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import { resourceAggregationService } from '../src/service';

const POOL_ID = 'CN.R0001.RP.000000011';
const UNREGISTERED = 'CN.R0001.RP.000000029';

let nats: TestNats;
let auth: TestAuth;
let nc: NatsConnection;
let db: Client;
let service: RunningGrpcService;
let client: GrpcClient<ResourceServiceClient>;
let token: string;
let updates: Subscription;
const updated: PoolData[] = [];

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  nc = await connect({ servers: nats.url });
  // The security service owns the stream; here the test stands in for it.
  await ensureOwnedStreams(await nc.jetstreamManager(), [SECURITY_STREAM]);
  const databaseUrl = await createTestDatabase('resource');
  const port = await findFreePort();
  const config = resourceAggregationService.loadConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '1000',
    // In process, the event loop is the test's too: its lag is not the service's load.
    GRPC_SHED_LAG_MS: '0',
    LOG_LEVEL: 'warn',
    EVENT_RETRY_INITIAL_MS: '100',
    EVENT_RETRY_MAX_MS: '500',
    // Never called here: the pool is written straight into the database.
    IDENTIFIER_ADDRESS: '127.0.0.1:1',
    SWEEP_INTERVAL_MS: '600000',
  });
  service = await startService(
    resourceAggregationService,
    config,
    createLogger({
      service: 'resource-aggregation',
      level: process.env.TEST_LOG_LEVEL ?? 'silent',
    }),
  );
  client = createGrpcClient<ResourceServiceClient>('cinode.resource.v1.ResourceService', {
    address: `127.0.0.1:${port}`,
    credentials: plaintext(),
    defaultTimeoutMs: 10_000,
  });
  token = await auth.token(['operator'], 'operator-1');
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const now = new Date();
  await db.query(
    `INSERT INTO pool (pool_id, provider_participant_id, name, pool_class, site, region_code,
       accelerators, security_level, datacenter_tier, pue, renewable_ratio, gflops_per_watt, price,
       filing, liveness, inventory, inventory_sequence, held, version, contract_version,
       registered_at, state_changed_at)
     VALUES ($1, 'prov-1', 'Lingang GPU', 'A', 'sh-1', '310115', '[]', 3, 4, 1.3, 0.2, 50, $2,
       'filed', 'online', NULL, 0, $3, 1, 1, $4, $4)`,
    [
      POOL_ID,
      {
        cpuCoreHourFen: 1,
        gpuCardHourFen: 100,
        npuCardHourFen: 0,
        memoryGibHourFen: 1,
        storageGibHourFen: 1,
      },
      { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
      now,
    ],
  );
  updates = nc.subscribe(PoolUpdated.type);
  void (async () => {
    for await (const message of updates)
      updated.push(decodeEnvelope(message.data).data as PoolData);
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

async function publishRisk(data: Partial<RiskChangedData> & { version: number }): Promise<void> {
  const envelope = createEnvelope(
    'security',
    eventOf(RiskChanged, {
      subjectKind: 'pool',
      subjectId: POOL_ID,
      score: 70,
      level: 'high',
      previousLevel: 'medium',
      securityLevelCap: null,
      quarantined: false,
      providerParticipantId: 'prov-1',
      assessedAt: new Date().toISOString(),
      ...data,
    }),
  );
  await nc.jetstream().publish(envelope.type, encodeEnvelope(envelope), { msgID: envelope.id });
}

/** Waits until the expectations hold (the probe throws until they do). */
const until = (what: string, check: () => Promise<void> | void) =>
  eventually(what, async () => {
    await check();
    return true;
  });

const getPool = () =>
  client.api.getPool({ poolId: POOL_ID }, { metadata: bearer(token) }).then((r) => r.pool);

describe('resource aggregation following pool risk (SECURITY stream)', () => {
  it('caps a pool on RiskChanged: GetPool shows it, and a PoolUpdated carries it', async () => {
    await publishRisk({ version: 2, securityLevelCap: 1 });
    await until('the capped pool', async () => {
      expect(await getPool()).toMatchObject({
        securityLevelCap: 1,
        quarantined: false,
        version: 2,
      });
    });
    await until('its PoolUpdated', () =>
      expect(updated).toContainEqual(
        expect.objectContaining({ poolId: POOL_ID, version: 2, securityLevelCap: 1 }),
      ),
    );
  });

  it('ignores an older risk, then applies a newer quarantine', async () => {
    await publishRisk({ version: 1, securityLevelCap: null, quarantined: false });
    await publishRisk({ version: 3, securityLevelCap: 1, quarantined: true });
    await until('the quarantined pool', async () => {
      expect(await getPool()).toMatchObject({ securityLevelCap: 1, quarantined: true, version: 3 });
    });
    await until('its PoolUpdated', () =>
      expect(updated.map((u) => [u.version, u.securityLevelCap, u.quarantined])).toEqual([
        [2, 1, false],
        [3, 1, true],
      ]),
    );
  });

  it('records the risk of a pool not registered yet', async () => {
    await publishRisk({ version: 4, subjectId: UNREGISTERED, securityLevelCap: 2 });
    await until('the recorded risk', async () => {
      const { rows } = await db.query<{ security_level_cap: number; version: string }>(
        `SELECT security_level_cap, version FROM pool_risk WHERE pool_id = $1`,
        [UNREGISTERED],
      );
      expect(rows).toEqual([{ security_level_cap: 2, version: '4' }]);
    });
  });
});

describe('holds on a quarantined pool', () => {
  const inventory = {
    cpuServers: 1,
    cpuCoresTotal: 64,
    cpuCoresFree: 64,
    gpuServers: 1,
    gpuCardsTotal: 8,
    gpuCardsFree: 8,
    npuServers: 0,
    npuCardsTotal: 0,
    npuCardsFree: 0,
    fp16TflopsTotal: 100,
    fp16TflopsFree: 100,
    fp32TflopsTotal: 50,
    fp32TflopsFree: 50,
    memoryGibTotal: 512,
    memoryGibFree: 512,
    storageGibTotal: 1000,
    storageGibFree: 1000,
    uplinkMbpsTotal: 1000,
    uplinkMbpsFree: 1000,
    uplinkTrafficGbFree: 0,
    downlinkMbpsTotal: 1000,
    downlinkMbpsFree: 1000,
    downlinkTrafficGbFree: 0,
  };
  const resources = { cpuCores: 4, gpuCards: 1, npuCards: 0, memoryGib: 16, storageGib: 0 };
  const setQuarantined = (quarantined: boolean) =>
    db.query(`UPDATE pool SET quarantined = $1 WHERE pool_id = $2`, [quarantined, POOL_ID]);
  const createHold = (requestId: string) =>
    client.api.createHold(
      { requestId, poolId: POOL_ID, orderReference: 'order-q', resources, ttlSeconds: 60 },
      { metadata: bearer(token) },
    );
  const heldGpus = async () => (await getPool())!.held!.gpuCardsFree;

  beforeAll(async () => {
    await db.query(
      `UPDATE pool SET inventory = $1, inventory_sequence = 1, last_reported_at = now()
       WHERE pool_id = $2`,
      [inventory, POOL_ID],
    );
  });

  it('refuses a new hold, and the confirmation of one made before, naming the quarantine', async () => {
    await setQuarantined(false);
    const { hold } = await createHold('hold-before-quarantine');
    expect(await heldGpus()).toBe(1);

    await setQuarantined(true);
    const refusedHold = await expectGrpcError(
      createHold('hold-during-quarantine'),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(refusedHold.details).toContain('quarantined');
    expect(refusedHold.status?.errorInfo).toMatchObject({
      reason: 'POOL_NOT_SELECTABLE',
      metadata: { current_state: 'QUARANTINED' },
    });
    const refusedConfirm = await expectGrpcError(
      client.api.confirmHold({ holdId: hold!.holdId }, { metadata: bearer(token) }),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(refusedConfirm.status?.errorInfo?.reason).toBe('POOL_NOT_SELECTABLE');
    // Nothing was allocated; the hold is given back as any unconfirmed one.
    expect(await heldGpus()).toBe(1);
    const release = () =>
      client.api.releaseHold(
        { holdId: hold!.holdId, reason: 'pool quarantined' },
        { metadata: bearer(token) },
      );
    expect((await release()).releasedNow).toBe(true);
    expect(await heldGpus()).toBe(0);
    // Released before: this call gave nothing back, and says so.
    expect((await release()).releasedNow).toBe(false);
    expect(await heldGpus()).toBe(0);

    await setQuarantined(false);
    const { hold: after } = await createHold('hold-after-quarantine');
    await client.api.confirmHold({ holdId: after!.holdId }, { metadata: bearer(token) });
    expect(await heldGpus()).toBe(1);
  });
});
