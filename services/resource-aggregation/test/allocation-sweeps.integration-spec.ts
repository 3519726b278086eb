import { TaskStateChanged, type AllocationData } from '@cinode/contracts';
import { decodeEnvelope } from '@cinode/events';
import type { GrpcClient, RunningGrpcService } from '@cinode/grpc';
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
  startTestNats,
  type TestAuth,
  type TestNats,
} from '@cinode/testing';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Client } from 'pg';
import { AllocationsService } from '../src/allocations/allocations.service';
import { FULL_INVENTORY, insertPool, startAggregation } from './aggregation-harness';

// What the sweep does to allocations: those a provider never starts fail after
// ALLOCATION_START_TIMEOUT_SECONDS, and cancelled ones whose provider never reports the task stopped
// give their capacity back after ALLOCATION_STOP_GRACE_SECONDS. The real service, its Postgres and
// NATS.
const POOL_ID = 'CN.R0001.RP.000000011';
const PROVIDER = 'prov-1';
const START_TIMEOUT_SECONDS = 2;
// Long enough that a loaded machine's pauses never end it between two checks of it.
const STOP_GRACE_SECONDS = 4;

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

beforeAll(async () => {
  nats = await startTestNats();
  auth = await createTestAuth();
  nc = await connect({ servers: nats.url });
  const databaseUrl = await createTestDatabase('resource');
  ({ service, client } = await startAggregation(databaseUrl, nats.url, auth.publicKeys, {
    // The pool stays online for the whole test: nothing reports for it.
    POOL_STALE_AFTER_SECONDS: '3600',
    POOL_OFFLINE_AFTER_SECONDS: '7200',
    SWEEP_INTERVAL_MS: '200',
    ALLOCATION_START_TIMEOUT_SECONDS: String(START_TIMEOUT_SECONDS),
    ALLOCATION_STOP_GRACE_SECONDS: String(STOP_GRACE_SECONDS),
  }));
  operator = await auth.token(['operator'], 'operator-1');
  provider = await auth.token(['provider'], 'prov-1-agent', PROVIDER);
  db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await insertPool(db, POOL_ID, {
    providerParticipantId: PROVIDER,
    inventory: FULL_INVENTORY,
    lastReportedAt: new Date(),
  });
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
  it('fail after the start timeout once the pool is silent and give their capacity back after the stop grace; started ones stay', async () => {
    const unstarted = await allocate('order-unstarted');
    const started = await allocate('order-started');
    expect(await heldGpus()).toBe(4);
    await client.api.reportTaskState(
      { allocationId: started, state: TaskState.TASK_STATE_RUNNING, detail: '', requestId: '' },
      { metadata: bearer(provider) },
    );

    // Past the timeout (confirmed an hour ago), but its pool still reports: its agent is there,
    // and the task is its own (a task may go from PENDING to COMPLETED, or take long to start).
    // The sweep's step, run here, leaves it alone.
    await db.query(
      `UPDATE allocation SET created_at = created_at - interval '1 hour' WHERE allocation_id = $1`,
      [unstarted],
    );
    expect(await service.app.get(AllocationsService).failUnstarted(START_TIMEOUT_SECONDS)).toBe(0);
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
    // Its two cards stay held for the stop grace (its agent may have started the task and lost
    // its link before saying so), then come back; the running task keeps its own.
    const holds = async () =>
      (
        await db.query<{ hold_id: string; state: string }>(
          `SELECT hold_id, state FROM hold ORDER BY created_at`,
        )
      ).rows;
    expect(await holds()).toEqual([
      { hold_id: unstarted, state: 'stopping' },
      { hold_id: started, state: 'confirmed' },
    ]);
    expect(await heldGpus()).toBe(4);
    await eventually('the stop grace over', async () => {
      expect(await holds()).toEqual([
        { hold_id: unstarted, state: 'released' },
        { hold_id: started, state: 'confirmed' },
      ]);
      return true;
    });
    expect(await heldGpus()).toBe(2);
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

describe('holds left unconfirmed past their time', () => {
  it('expire in the sweep and give their capacity back', async () => {
    const before = await heldGpus();
    const { hold } = await client.api.createHold(
      {
        requestId: 'hold-left-to-expire',
        poolId: POOL_ID,
        orderReference: 'order-left',
        resources,
        ttlSeconds: 1,
      },
      { metadata: bearer(operator) },
    );
    expect(await heldGpus()).toBe(before + 2);
    await eventually('the hold expired', async () => {
      const { rows } = await db.query<{ state: string }>(
        `SELECT state FROM hold WHERE hold_id = $1`,
        [hold!.holdId],
      );
      expect(rows[0].state).toBe('expired');
      return true;
    });
    expect(await heldGpus()).toBe(before);
  }, 30_000);
});
