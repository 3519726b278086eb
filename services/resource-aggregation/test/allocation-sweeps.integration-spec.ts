import { TaskStateChanged, type AllocationData } from '@cinode/contracts';
import { decodeEnvelope } from '@cinode/events';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import {
  TaskState,
  type ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
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

// What the sweep does to allocations: those a provider never starts fail after
// ALLOCATION_START_TIMEOUT_SECONDS, and cancelled ones whose provider never reports the task stopped
// give their capacity back after ALLOCATION_STOP_GRACE_SECONDS. The real service, its Postgres and
// NATS.
const POOL_ID = 'CN.R0001.RP.000000011';
const PROVIDER = 'prov-1';
const START_TIMEOUT_SECONDS = 2;
const STOP_GRACE_SECONDS = 2;

let nats: TestNats;
let auth: TestAuth;
let nc: NatsConnection;
let db: Client;
let service: RunningGrpcService;
let client: GrpcClient<ResourceServiceClient>;
let operator: string;
let provider: string;
let changes: Subscription;
const changed: AllocationData[] = [];

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

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  nc = await connect({ servers: nats.url });
  const databaseUrl = await createTestDatabase('resource');
  const port = await findFreePort();
  const config = resourceAggregationService.loadConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '1000',
    GRPC_SHED_LAG_MS: '0',
    LOG_LEVEL: 'warn',
    EVENT_RETRY_INITIAL_MS: '100',
    EVENT_RETRY_MAX_MS: '500',
    IDENTIFIER_ADDRESS: '127.0.0.1:1',
    // The pool stays online for the whole test: nothing reports for it.
    POOL_STALE_AFTER_SECONDS: '3600',
    POOL_OFFLINE_AFTER_SECONDS: '7200',
    SWEEP_INTERVAL_MS: '200',
    ALLOCATION_START_TIMEOUT_SECONDS: String(START_TIMEOUT_SECONDS),
    ALLOCATION_STOP_GRACE_SECONDS: String(STOP_GRACE_SECONDS),
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
  operator = await auth.token(['operator'], 'operator-1');
  provider = await auth.token(['provider'], 'prov-1-agent', PROVIDER);
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const now = new Date();
  await db.query(
    `INSERT INTO pool (pool_id, provider_participant_id, name, pool_class, site, region_code,
       accelerators, security_level, datacenter_tier, pue, renewable_ratio, gflops_per_watt, price,
       filing, liveness, inventory, inventory_sequence, last_reported_at, held, version,
       contract_version, registered_at, state_changed_at)
     VALUES ($1, $2, 'Lingang GPU', 'A', 'sh-1', '310115', '[]', 3, 4, 1.3, 0.2, 50, $3,
       'filed', 'online', $4, 1, $5, $6, 1, 1, $5, $5)`,
    [
      POOL_ID,
      PROVIDER,
      {
        cpuCoreHourFen: 1,
        gpuCardHourFen: 100,
        npuCardHourFen: 0,
        memoryGibHourFen: 1,
        storageGibHourFen: 1,
      },
      inventory,
      now,
      { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
    ],
  );
  changes = nc.subscribe(TaskStateChanged.type);
  void (async () => {
    for await (const message of changes)
      changed.push(decodeEnvelope(message.data).data as AllocationData);
  })();
}, 60_000);

afterAll(async () => {
  changes?.unsubscribe();
  client?.close();
  await db?.end();
  await service?.stop();
  await nc?.drain();
  await nats?.stop();
});

const resources = { cpuCores: 4, gpuCards: 2, npuCards: 0, memoryGib: 16, storageGib: 0 };

/** A confirmed hold of `resources` for the order: its allocation, pending. */
async function allocate(orderReference: string): Promise<string> {
  const { hold } = await client.api.createHold(
    { requestId: orderReference, poolId: POOL_ID, orderReference, resources, ttlSeconds: 60 },
    { metadata: bearer(operator) },
  );
  await client.api.confirmHold({ holdId: hold!.holdId }, { metadata: bearer(operator) });
  return hold!.holdId;
}

const heldGpus = async () =>
  (await client.api.getPool({ poolId: POOL_ID }, { metadata: bearer(operator) })).pool!.held!
    .gpuCardsFree;

const allocationState = async (allocationId: string) => {
  const { rows } = await db.query<{ state: string; detail: string }>(
    `SELECT state, detail FROM allocation WHERE allocation_id = $1`,
    [allocationId],
  );
  return rows[0];
};

describe('allocations their providers never start on pools that stopped reporting', () => {
  it('fail after the start timeout once the pool is silent and give their capacity back; started ones stay', async () => {
    const unstarted = await allocate('order-unstarted');
    const started = await allocate('order-started');
    expect(await heldGpus()).toBe(4);
    await client.api.reportTaskState(
      { allocationId: started, state: TaskState.TASK_STATE_RUNNING, detail: '', requestId: '' },
      { metadata: bearer(provider) },
    );

    // Past the timeout, but its pool still reports: its agent is there, and the task is its own
    // (a task may go from PENDING to COMPLETED, or take long to start).
    await new Promise((resolve) => setTimeout(resolve, START_TIMEOUT_SECONDS * 1000 + 1_000));
    expect((await allocationState(unstarted)).state).toBe('pending');

    // The pool stops reporting (its agent is gone): the unstarted allocation fails.
    await db.query(`UPDATE pool SET liveness = 'stale' WHERE pool_id = $1`, [POOL_ID]);
    await eventually('the unstarted allocation failed', async () => {
      expect(await allocationState(unstarted)).toEqual({
        state: 'failed',
        detail: `the provider did not start the task within ${START_TIMEOUT_SECONDS} s of the order's confirmation, and its pool stopped reporting`,
      });
      return true;
    });
    // Its two cards are back; the running task keeps its own.
    expect(await heldGpus()).toBe(2);
    const { rows: holds } = await db.query<{ hold_id: string; state: string }>(
      `SELECT hold_id, state FROM hold ORDER BY created_at`,
    );
    expect(holds).toEqual([
      { hold_id: unstarted, state: 'released' },
      { hold_id: started, state: 'confirmed' },
    ]);
    await eventually('its TaskStateChanged', async () => {
      expect(changed).toContainEqual(
        expect.objectContaining({
          holdId: unstarted,
          orderReference: 'order-unstarted',
          state: 'failed',
        }),
      );
      return true;
    });

    // Long after: the started one is still running, and no second event for the failed one.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await allocationState(started)).state).toBe('running');
    expect(changed.filter((c) => c.holdId === unstarted)).toHaveLength(1);

    // The agent that wakes up too late is told the task is over.
    const late = await expectGrpcError(
      client.api.reportTaskState(
        { allocationId: unstarted, state: TaskState.TASK_STATE_RUNNING, detail: '', requestId: '' },
        { metadata: bearer(provider) },
      ),
      GrpcStatus.FAILED_PRECONDITION,
    );
    expect(late.status?.errorInfo).toMatchObject({
      reason: 'INVALID_TASK_TRANSITION',
      metadata: { current_state: 'FAILED' },
    });
    expect(await heldGpus()).toBe(2);
    await db.query(`UPDATE pool SET liveness = 'online' WHERE pool_id = $1`, [POOL_ID]);
  }, 30_000);
});

describe('cancelled allocations whose providers never report the task stopped', () => {
  const holdState = async (holdId: string) =>
    (await db.query<{ state: string }>(`SELECT state FROM hold WHERE hold_id = $1`, [holdId]))
      .rows[0].state;

  it('keep their capacity held for the stop grace, then give it back', async () => {
    const before = await heldGpus();
    const cancelled = await allocate('order-cancelled-silent');
    await client.api.reportTaskState(
      { allocationId: cancelled, state: TaskState.TASK_STATE_RUNNING, detail: '', requestId: '' },
      { metadata: bearer(provider) },
    );
    const released = await client.api.releaseHold(
      { holdId: cancelled, reason: 'the user cancelled the order' },
      { metadata: bearer(operator) },
    );
    expect(released.releasedNow).toBe(true);
    expect(released.allocationState).toBe(TaskState.TASK_STATE_CANCELLED);
    expect(await holdState(cancelled)).toBe('stopping');
    expect(await heldGpus()).toBe(before + 2);

    await new Promise((resolve) => setTimeout(resolve, (STOP_GRACE_SECONDS * 1000) / 2));
    expect(await holdState(cancelled)).toBe('stopping');
    expect(await heldGpus()).toBe(before + 2);

    await eventually('the grace over', async () => {
      expect(await holdState(cancelled)).toBe('released');
      return true;
    });
    expect(await heldGpus()).toBe(before);
    // The agent that answers after the grace changes nothing more.
    const late = await client.api.reportTaskState(
      { allocationId: cancelled, state: TaskState.TASK_STATE_CANCELLED, detail: '', requestId: '' },
      { metadata: bearer(provider) },
    );
    expect(late.changed).toBe(false);
    expect(await heldGpus()).toBe(before);
  }, 30_000);
});
