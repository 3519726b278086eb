import type { GrpcClient } from '@cinode/grpc';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { HoldState } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { bearer, expectGrpcError } from '@cinode/testing';
import { Client } from 'pg';
import {
  FULL_INVENTORY,
  insertPool,
  startAggregationWithInfra,
  type AggregationUnderTest,
} from './aggregation-harness';
import { HoldsService } from '../src/holds/holds.service';

// When many orders race for a pool's last units, the ones arriving after the winner committed are
// refused on the pool's committed state, without queueing behind its row lock. The real service
// and its Postgres; another connection holds the pool's row lock meanwhile.
const POOL_ID = 'CN.R0001.RP.000000031';
/** How long the other connection holds the row lock: a call that waits for it takes this long. */
const LOCK_HELD_MS = 4_000;

let node: AggregationUnderTest | undefined;
let db: Client;
let locker: Client;
let client: GrpcClient<ResourceServiceClient>;
let caller: string;

beforeAll(async () => {
  node = await startAggregationWithInfra();
  ({ db, client } = node);
  caller = await node.auth.token(['service'], 'service-center');
  locker = new Client({ connectionString: node.databaseUrl });
  await locker.connect();
  await insertPool(db, POOL_ID, {
    inventory: { ...FULL_INVENTORY, gpuCardsFree: 1 },
    lastReportedAt: new Date(),
  });
});

afterAll(async () => {
  await locker?.end();
  await node?.stop();
});

function createHold(requestId: string) {
  return client.api.createHold(
    {
      requestId,
      poolId: POOL_ID,
      orderReference: `order-${requestId}`,
      resources: { cpuCores: 0, gpuCards: 1, npuCards: 0, memoryGib: 0, storageGib: 0 },
      ttlSeconds: 60,
    },
    { metadata: bearer(caller) },
  );
}

/**
 * Runs `run` while another connection holds the pool's row lock, which it keeps for LOCK_HELD_MS
 * whatever `run` does (a call waiting for the lock fails the timing checks, not the test's
 * timeout); resolves once the lock is given back.
 */
async function whileRowLocked(poolId: string, run: () => Promise<void>): Promise<void> {
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM pool WHERE pool_id = $1 FOR UPDATE', [poolId]);
  const released = new Promise<void>((resolve) =>
    setTimeout(() => {
      locker.query('ROLLBACK').then(() => resolve(), resolve);
    }, LOCK_HELD_MS),
  );
  try {
    await run();
  } finally {
    await released;
  }
}

it("refuses a hold the pool's committed capacity cannot cover without waiting for its row lock", async () => {
  const { hold: winner } = await createHold('winner');
  expect(winner?.holdId).toMatch(/^[0-9a-f-]{36}$/);

  await whileRowLocked(POOL_ID, async () => {
    const started = Date.now();
    const late = await expectGrpcError(createHold('late'), GrpcStatus.RESOURCE_EXHAUSTED);
    expect(late.status?.errorInfo).toMatchObject({
      reason: 'INSUFFICIENT_CAPACITY',
      metadata: { resource: 'gpu_cards', free: '0' },
    });
    // Answered while the lock was still held (a call waiting for it would take LOCK_HELD_MS).
    expect(Date.now() - started).toBeLessThan(LOCK_HELD_MS / 2);
    // The winner's retry is answered with its hold, not refused.
    const { hold: retried } = await createHold('winner');
    expect(retried?.holdId).toBe(winner?.holdId);
  });
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM hold WHERE pool_id = $1`,
    [POOL_ID],
  );
  expect(rows[0].n).toBe(1);
});

describe("a hold's confirmation after its pool left selection", () => {
  const OTHER_POOL = 'CN.R0001.RP.000000032';
  const confirm = (holdId: string) =>
    client.api.confirmHold({ holdId }, { metadata: bearer(caller) });
  const setPool = (filing: string, liveness: string) =>
    db.query(`UPDATE pool SET filing = $1, liveness = $2 WHERE pool_id = $3`, [
      filing,
      liveness,
      OTHER_POOL,
    ]);
  const hold = async (requestId: string): Promise<string> => {
    await setPool('filed', 'online');
    const { hold: held } = await client.api.createHold(
      {
        requestId,
        poolId: OTHER_POOL,
        orderReference: `order-${requestId}`,
        resources: { cpuCores: 1, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
        ttlSeconds: 60,
      },
      { metadata: bearer(caller) },
    );
    return held!.holdId;
  };
  const allocations = async (holdId: string) =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM allocation WHERE allocation_id = $1`,
        [holdId],
      )
    ).rows[0].n;

  beforeAll(() =>
    insertPool(db, OTHER_POOL, { inventory: FULL_INVENTORY, lastReportedAt: new Date() }),
  );

  it.each([
    ['suspended', 'online', 'SUSPENDED'],
    ['filed', 'offline', 'OFFLINE'],
  ])(
    'refuses it when the filing is %s and the pool %s, allocating nothing',
    async (filing, liveness, state) => {
      const holdId = await hold(`left-${state}`);
      await setPool(filing, liveness);
      const refused = await expectGrpcError(confirm(holdId), GrpcStatus.FAILED_PRECONDITION);
      expect(refused.status?.errorInfo).toMatchObject({
        reason: 'POOL_NOT_SELECTABLE',
        metadata: { current_state: state },
      });
      expect(await allocations(holdId)).toBe(0);
      const { hold: after } = await client.api.getHold({ holdId }, { metadata: bearer(caller) });
      // Still active: released by its order's refusal, or expired, as any other.
      expect(after?.state).toBe(HoldState.HOLD_STATE_ACTIVE);
    },
  );

  it('confirms it when the pool only went stale (a missed report)', async () => {
    const holdId = await hold('left-stale');
    await setPool('filed', 'stale');
    await confirm(holdId);
    expect(await allocations(holdId)).toBe(1);
  });
});

it('names every bad field of a CreateHold in one answer, the pool id among them', async () => {
  const refused = await expectGrpcError(
    client.api.createHold(
      {
        requestId: 'bad fields',
        poolId: 'not a pool',
        orderReference: 'order-bad',
        resources: undefined,
        ttlSeconds: 99_999,
      },
      { metadata: bearer(caller) },
    ),
    GrpcStatus.INVALID_ARGUMENT,
  );
  expect(refused.status?.fieldViolations?.map((v) => v.field).sort()).toEqual([
    'pool_id',
    'request_id',
    'resources',
    'ttl_seconds',
  ]);
});

it('leaves the holds of a pool whose row another transaction holds to the next sweep, without waiting', async () => {
  const POOL = 'CN.R0001.RP.000000033';
  await insertPool(db, POOL, { inventory: FULL_INVENTORY, lastReportedAt: new Date() });
  const { hold } = await client.api.createHold(
    {
      requestId: 'expiring',
      poolId: POOL,
      orderReference: 'order-expiring',
      resources: { cpuCores: 2, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
      ttlSeconds: 60,
    },
    { metadata: bearer(caller) },
  );
  await db.query(`UPDATE hold SET expires_at = now() - interval '1 second' WHERE hold_id = $1`, [
    hold!.holdId,
  ]);
  const holds = node!.service.app.get(HoldsService);
  const state = async () =>
    (await db.query<{ state: string }>(`SELECT state FROM hold WHERE hold_id = $1`, [hold!.holdId]))
      .rows[0].state;

  await whileRowLocked(POOL, async () => {
    const started = Date.now();
    const expired = await holds.expireDue();
    // Answered while the lock was still held (a sweep waiting for it would take LOCK_HELD_MS).
    expect(Date.now() - started).toBeLessThan(LOCK_HELD_MS / 2);
    expect(expired).toBe(0);
    expect(await state()).toBe('active');
  });
  // Free again: the next sweep (this call, or the service's own) expires it.
  await holds.expireDue();
  expect(await state()).toBe('expired');
});
