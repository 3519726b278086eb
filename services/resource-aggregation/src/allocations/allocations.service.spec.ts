import type { Caller } from '@cinode/auth';
import { AllocationCreated, TaskStateChanged, type AllocationData } from '@cinode/contracts';
import { PageTokens } from '@cinode/common';
import type { Tx } from '@cinode/database';
import { TaskState } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { FakeTable, FakeUnitOfWork, expectDomainError } from '@cinode/testing';
import type { ResourceAggregationConfig } from '../config';
import { HeldCapacity } from '../holds/held-capacity';
import type { HoldEntity } from '../holds/hold.entity';
import type { HoldsRepository } from '../holds/holds.repository';
import { HoldsService } from '../holds/holds.service';
import { EMPTY_INVENTORY, NOTHING_HELD } from '../pools/pool-view';
import type { PoolEntity } from '../pools/pool.entity';
import type { PoolsRepository } from '../pools/pools.repository';
import type { AllocationEntity } from './allocation.entity';
import type { AllocationFilter, AllocationsRepository } from './allocations.repository';
import { AllocationsService, taskMoves } from './allocations.service';

const POOL_ID = 'CN.R0001.RP.000000011';
const PROVIDER = 'prov-1';

function caller(roles: Caller['roles'], tenant: string | undefined, subject = 'sub-1'): Caller {
  return { subject, roles, tenant, tokenId: 't', expiresAt: new Date() } as Caller;
}
const provider = caller(['provider'], PROVIDER, 'prov-1-token');
const otherProvider = caller(['provider'], 'prov-2', 'prov-2-token');
const centre = caller(['service'], undefined, 'service-center');

/** The repositories over in-memory tables, rolled back with the fake unit of work. */
function subject() {
  const pools = new FakeTable<string, PoolEntity>();
  const holds = new FakeTable<string, HoldEntity>();
  const allocations = new FakeTable<string, AllocationEntity>();
  const uow = new FakeUnitOfWork(pools, holds, allocations);
  let sequence = 0;
  const now = new Date();
  pools.rows.set(POOL_ID, {
    poolId: POOL_ID,
    providerParticipantId: PROVIDER,
    name: 'Lingang GPU',
    poolClass: 'A',
    site: 'sh-1',
    regionCode: '310115',
    accelerators: [{ kind: 'GPU', model: 'H800', domestic: false }],
    securityLevel: 3,
    datacenterTier: 4,
    pue: 1.3,
    renewableRatio: 0.2,
    gflopsPerWatt: 50,
    price: {
      cpuCoreHourFen: 1,
      gpuCardHourFen: 100,
      npuCardHourFen: 0,
      memoryGibHourFen: 1,
      storageGibHourFen: 1,
    },
    filing: 'filed',
    liveness: 'online',
    inventory: { ...EMPTY_INVENTORY, gpuCardsTotal: 8, gpuCardsFree: 8 },
    inventorySequence: 1,
    observedAt: now,
    lastReportedAt: now,
    held: { ...NOTHING_HELD },
    version: 1,
    securityLevelCap: null,
    quarantined: false,
    riskVersion: 0,
    contractVersion: 1,
    registeredAt: now,
    stateChangedAt: now,
  });
  const poolsRepo = {
    findById: async (id: string) => pools.rows.get(id),
    lock: async (_tx: Tx, id: string) => pools.rows.get(id),
  } as unknown as PoolsRepository;
  const holdsRepo = {
    databaseNow: async () => new Date(),
    insert: async (_tx: Tx, hold: HoldEntity) => void holds.rows.set(hold.holdId, { ...hold }),
    findById: async (id: string) => holds.rows.get(id),
    lock: async (_tx: Tx, id: string) => holds.rows.get(id),
    setState: async (_tx: Tx, id: string, state: HoldEntity['state'], at: Date) => {
      Object.assign(holds.rows.get(id)!, { state, stateChangedAt: at });
    },
    setHeld: async (_tx: Tx, pool: PoolEntity) => {
      Object.assign(pools.rows.get(pool.poolId)!, { held: pool.held, version: pool.version });
    },
  } as unknown as HoldsRepository;
  const allocationsRepo = {
    findById: async (id: string) => allocations.rows.get(id),
    lock: async (_tx: Tx, id: string) => allocations.rows.get(id),
    write: async (_tx: Tx, allocation: AllocationEntity) => {
      sequence += 1;
      allocations.rows.set(allocation.allocationId, { ...allocation, sequence });
      return sequence;
    },
    list: async (filter: AllocationFilter, limit: number) =>
      allocations
        .values()
        .filter(
          (a) =>
            a.sequence > filter.afterSequence &&
            (!filter.providerParticipantId ||
              a.providerParticipantId === filter.providerParticipantId) &&
            (!filter.state || a.state === filter.state),
        )
        .sort((a, b) => a.sequence - b.sequence)
        .slice(0, limit + 1),
  } as unknown as AllocationsRepository;
  const capacity = new HeldCapacity(holdsRepo);
  const service = new AllocationsService(
    uow.asUnitOfWork,
    allocationsRepo,
    holdsRepo,
    poolsRepo,
    capacity,
    PageTokens.ephemeral(),
  );
  const holdsService = new HoldsService(uow.asUnitOfWork, holdsRepo, poolsRepo, capacity, service, {
    HOLD_DEFAULT_TTL_SECONDS: 300,
    POOL_STALE_AFTER_SECONDS: 90,
  } as ResourceAggregationConfig);
  return { uow, pools, holds, allocations, service, holdsService };
}

/** A confirmed hold of two GPU cards, as the service center would make it. */
async function confirmed(s: ReturnType<typeof subject>, order = 'order-1'): Promise<string> {
  const { hold } = await s.holdsService.create(centre, {
    requestId: `r-${order}`,
    poolId: POOL_ID,
    orderReference: order,
    resources: { cpuCores: 0, gpuCards: 2, npuCards: 0, memoryGib: 0, storageGib: 0 },
    ttlSeconds: 60,
  });
  await s.holdsService.confirm(centre, hold.holdId);
  return hold.holdId;
}

function report(allocationId: string, state: TaskState, requestId = '', detail = '') {
  return { allocationId, state, detail, requestId };
}

describe(taskMoves.name, () => {
  it('moves forwards only, repeats as no-ops, and keeps final states final', () => {
    expect(taskMoves('pending', 'running')).toBe(true);
    expect(taskMoves('pending', 'completed')).toBe(true);
    expect(taskMoves('pending', 'failed')).toBe(true);
    expect(taskMoves('running', 'completed')).toBe(true);
    expect(taskMoves('running', 'failed')).toBe(true);
    expect(taskMoves('running', 'running')).toBe(false);
    expect(taskMoves('completed', 'completed')).toBe(false);
    expect(() => taskMoves('running', 'pending')).toThrow(/cannot go back to pending/);
    expect(() => taskMoves('completed', 'failed')).toThrow(/final/);
    expect(() => taskMoves('failed', 'running')).toThrow(/final/);
    expect(() => taskMoves('cancelled', 'failed')).toThrow(/cancelled/);
  });
});

describe(AllocationsService.name, () => {
  it('gives a hold confirmed without an allocation (an older replica confirmed it) one on a repeated confirm', async () => {
    const s = subject();
    const id = await confirmed(s);
    s.allocations.rows.delete(id);
    await s.holdsService.confirm(centre, id);
    expect(s.allocations.rows.get(id)).toMatchObject({ allocationId: id, state: 'pending' });
    await s.holdsService.confirm(centre, id);
    expect(s.uow.dataOf('cinode.resource.allocation.created')).toHaveLength(2);
  });

  it("lets only the hold's creator (or an operator) confirm it", async () => {
    const s = subject();
    const { hold } = await s.holdsService.create(centre, {
      requestId: 'r-other',
      poolId: POOL_ID,
      orderReference: 'order-other',
      resources: { cpuCores: 0, gpuCards: 1, npuCards: 0, memoryGib: 0, storageGib: 0 },
      ttlSeconds: 60,
    });
    const stranger = { ...centre, subject: 'compute-selection' };
    await expect(s.holdsService.confirm(stranger, hold.holdId)).rejects.toThrow(/another caller/);
    expect(s.allocations.rows.has(hold.holdId)).toBe(false);
    await s.holdsService.confirm(centre, hold.holdId);
    expect(s.allocations.rows.has(hold.holdId)).toBe(true);
  });

  it('opens a pending allocation for the provider when a hold is confirmed, once', async () => {
    const s = subject();
    const id = await confirmed(s);
    await s.holdsService.confirm(centre, id);
    expect(s.allocations.rows.get(id)).toMatchObject({
      allocationId: id,
      poolId: POOL_ID,
      providerParticipantId: PROVIDER,
      orderReference: 'order-1',
      resources: { gpuCards: 2 },
      state: 'pending',
      version: 1,
    });
    expect(s.uow.dataOf<AllocationData>(AllocationCreated.type)).toEqual([
      expect.objectContaining({ allocationId: id, holdId: id, state: 'pending', version: 1 }),
    ]);
  });

  it('runs the task to completion and gives the capacity back, once', async () => {
    const s = subject();
    const id = await confirmed(s);
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(2);
    const running = await s.service.report(provider, report(id, TaskState.TASK_STATE_RUNNING));
    expect(running).toMatchObject({ changed: true, allocation: { state: 'running', version: 2 } });
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(2);
    const again = await s.service.report(provider, report(id, TaskState.TASK_STATE_RUNNING));
    expect(again).toMatchObject({ changed: false, allocation: { state: 'running', version: 2 } });
    const done = await s.service.report(
      provider,
      report(id, TaskState.TASK_STATE_COMPLETED, '', 'exit 0'),
    );
    expect(done.allocation).toMatchObject({ state: 'completed', detail: 'exit 0', version: 3 });
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(0);
    expect(s.holds.rows.get(id)!.state).toBe('released');
    // Reporting it again changes nothing: the capacity is not given back twice.
    await s.service.report(provider, report(id, TaskState.TASK_STATE_COMPLETED));
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(0);
    // Nor does the order's release after the task ended.
    await s.holdsService.release(centre, id, 'order closed');
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(0);
    expect(s.allocations.rows.get(id)!.state).toBe('completed');
    expect(
      s.uow.dataOf<AllocationData>(TaskStateChanged.type).map((d) => [d.state, d.version]),
    ).toEqual([
      ['running', 2],
      ['completed', 3],
    ]);
  });

  it('refuses going backwards or out of a final state with FAILED_PRECONDITION and its reason', async () => {
    const s = subject();
    const id = await confirmed(s);
    await s.service.report(provider, report(id, TaskState.TASK_STATE_RUNNING));
    const back = await expectDomainError(
      s.service.report(provider, report(id, TaskState.TASK_STATE_PENDING)),
    );
    expect(back).toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'INVALID_TASK_TRANSITION',
      metadata: { current_state: 'RUNNING' },
    });
    await s.service.report(provider, report(id, TaskState.TASK_STATE_FAILED, '', 'node lost'));
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(0);
    const final = await expectDomainError(
      s.service.report(provider, report(id, TaskState.TASK_STATE_COMPLETED)),
    );
    expect(final).toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'INVALID_TASK_TRANSITION' });
  });

  it('answers a retried request id with the allocation as it is now, even after it moved on', async () => {
    const s = subject();
    const id = await confirmed(s);
    await s.service.report(provider, report(id, TaskState.TASK_STATE_RUNNING, 'run-1'));
    await s.service.report(provider, report(id, TaskState.TASK_STATE_COMPLETED, 'done-1'));
    const retry = await s.service.report(
      provider,
      report(id, TaskState.TASK_STATE_RUNNING, 'run-1'),
    );
    expect(retry).toMatchObject({ changed: false, allocation: { state: 'completed' } });
    const reused = await expectDomainError(
      s.service.report(provider, report(id, TaskState.TASK_STATE_FAILED, 'run-1')),
    );
    expect(reused).toMatchObject({ kind: 'ALREADY_EXISTS', reason: 'REQUEST_ID_REUSED' });
  });

  it('cancels the allocation when its confirmed hold is released, keeps its capacity until the provider reports it stopped, and refuses other reports', async () => {
    const s = subject();
    const id = await confirmed(s);
    await s.service.report(provider, report(id, TaskState.TASK_STATE_RUNNING));
    const released = await s.holdsService.release(centre, id, 'user cancelled the order');
    expect(released).toMatchObject({ releasedNow: true, allocationState: 'cancelled' });
    expect(s.allocations.rows.get(id)).toMatchObject({
      state: 'cancelled',
      detail: 'user cancelled the order',
      version: 3,
    });
    // The task may still run at the provider: its cards are not free yet.
    expect(s.holds.rows.get(id)!.state).toBe('stopping');
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(2);
    // A retried cancel changes nothing.
    expect(await s.holdsService.release(centre, id, 'again')).toMatchObject({
      releasedNow: false,
      allocationState: 'cancelled',
    });
    const refused = await expectDomainError(
      s.service.report(provider, report(id, TaskState.TASK_STATE_COMPLETED)),
    );
    expect(refused).toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'ALLOCATION_CANCELLED',
      metadata: { current_state: 'CANCELLED' },
    });
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(2);
    // The provider stopped it: the capacity is back, once.
    const stopped = await s.service.report(provider, report(id, TaskState.TASK_STATE_CANCELLED));
    expect(stopped).toMatchObject({
      changed: true,
      allocation: { state: 'cancelled', version: 3 },
    });
    expect(s.holds.rows.get(id)!.state).toBe('released');
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(0);
    const again = await s.service.report(provider, report(id, TaskState.TASK_STATE_CANCELLED));
    expect(again.changed).toBe(false);
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(0);
  });

  it('refuses CANCELLED from a provider whose allocation the node did not cancel', async () => {
    const s = subject();
    const id = await confirmed(s);
    const refused = await expectDomainError(
      s.service.report(provider, report(id, TaskState.TASK_STATE_CANCELLED)),
    );
    expect(refused).toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'INVALID_TASK_TRANSITION',
      metadata: { current_state: 'PENDING' },
    });
    expect(s.allocations.rows.get(id)!.state).toBe('pending');
    expect(s.pools.rows.get(POOL_ID)!.held.gpuCards).toBe(2);
  });

  it("answers another provider's allocation as it answers an unknown one", async () => {
    const s = subject();
    const id = await confirmed(s);
    const theirs = await expectDomainError(
      s.service.report(otherProvider, report(id, TaskState.TASK_STATE_RUNNING)),
    );
    const unknown = await expectDomainError(
      s.service.report(
        otherProvider,
        report('0193a1b2-c3d4-7e5f-8a9b-000000000000', TaskState.TASK_STATE_RUNNING),
      ),
    );
    expect([theirs.kind, theirs.reason]).toEqual(['NOT_FOUND', 'ALLOCATION_NOT_FOUND']);
    expect([unknown.kind, unknown.reason]).toEqual(['NOT_FOUND', 'ALLOCATION_NOT_FOUND']);
    expect(s.allocations.rows.get(id)!.state).toBe('pending');
  });

  it('names every malformed field', async () => {
    const s = subject();
    const error = await expectDomainError(
      s.service.report(provider, {
        allocationId: 'nope',
        state: 99 as TaskState,
        detail: 'x'.repeat(501),
        requestId: 'has spaces',
      }),
    );
    expect(error.kind).toBe('INVALID_ARGUMENT');
    expect(error.fieldViolations.map((v) => v.field).sort()).toEqual([
      'allocation_id',
      'detail',
      'request_id',
      'state',
    ]);
  });

  it("lists a provider's own allocations after a sequence, and refuses another provider's", async () => {
    const s = subject();
    const first = await confirmed(s, 'order-1');
    const second = await confirmed(s, 'order-2');
    const all = await s.service.list(provider, listRequest({}));
    expect(all.allocations.map((a) => a.allocationId)).toEqual([first, second]);
    await s.service.report(provider, report(first, TaskState.TASK_STATE_RUNNING));
    // Polling after the last sequence seen returns what changed since, in change order.
    const since = await s.service.list(
      provider,
      listRequest({ afterSequence: all.allocations[1].sequence }),
    );
    expect(since.allocations.map((a) => [a.allocationId, a.state])).toEqual([[first, 'running']]);
    expect(
      (await s.service.list(otherProvider, listRequest({}))).allocations.map((a) => a.allocationId),
    ).toEqual([]);
    const denied = await expectDomainError(
      s.service.list(otherProvider, listRequest({ providerParticipantId: PROVIDER })),
    );
    expect(denied).toMatchObject({ kind: 'PERMISSION_DENIED', reason: 'NOT_OWNER' });
    const paged = await s.service.list(centre, listRequest({ pageSize: 1 }));
    expect(paged.allocations).toHaveLength(1);
    const next = await s.service.list(
      centre,
      listRequest({ pageSize: 1, pageToken: paged.nextPageToken }),
    );
    expect(next.allocations.map((a) => a.allocationId)).toEqual([first]);
    const bad = await expectDomainError(s.service.list(centre, listRequest({ afterSequence: -1 })));
    expect(bad.fieldViolations.map((v) => v.field)).toEqual(['after_sequence']);
  });
});

function listRequest(
  overrides: Partial<Parameters<AllocationsService['list']>[1]>,
): Parameters<AllocationsService['list']>[1] {
  return {
    providerParticipantId: '',
    poolId: '',
    state: TaskState.TASK_STATE_UNSPECIFIED,
    afterSequence: 0,
    pageSize: 0,
    pageToken: '',
    ...overrides,
  };
}
