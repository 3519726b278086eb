import type { PoolData } from '@cinode/contracts';
import { interpretAllocation, interpretDemand, interpretPool, type PoolState } from './interpret';

const t0 = new Date('2026-06-01T08:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const meta = (
  type: string,
  time: Date,
  id = `00000000-0000-7000-8000-${String(time.getTime()).slice(-12)}`,
) => ({ id, type, time });

function pool(
  version: number,
  state: PoolData['state'],
  lastReportedAt: Date | null = t0,
): PoolData {
  return {
    poolId: 'RP-1',
    version,
    providerParticipantId: 'p',
    name: 'pool',
    poolClass: 'A',
    site: 's',
    regionCode: '310000',
    accelerators: [{ kind: 'NPU', model: 'Ascend910', domestic: true }],
    securityLevel: 3,
    datacenterTier: 3,
    pue: 1.2,
    renewableRatio: 0,
    gflopsPerWatt: 10,
    price: {
      cpuCoreHourFen: 1,
      gpuCardHourFen: 1,
      npuCardHourFen: 1,
      memoryGibHourFen: 1,
      storageGibHourFen: 1,
    },
    state,
    inventory: null,
    inventorySequence: 0,
    held: { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
    lastReportedAt: lastReportedAt?.toISOString() ?? null,
  };
}

const metrics = (r: { observations: { metric: string; value: number }[] }) =>
  r.observations.map((o) => [o.metric, o.value]);

describe('interpretPool', () => {
  it('times a fault from the last report to the stale event and its recovery to online', () => {
    const registered = interpretPool(
      meta('cinode.resource.pool.registered', t0),
      pool(1, 'online'),
      undefined,
    );
    expect(metrics(registered)).toEqual([['pools_registered', 1]]);
    expect(registered.next?.accelerator).toBe('Ascend910');
    const stale = interpretPool(
      meta('cinode.resource.pool.stale', at(90_000)),
      pool(2, 'stale'),
      registered.next,
    );
    expect(metrics(stale)).toEqual([
      ['fault_discovery_ms', 90_000],
      ['pools_went_stale', 1],
    ]);
    const offline = interpretPool(
      meta('cinode.resource.pool.offline', at(600_000)),
      pool(3, 'offline'),
      stale.next,
    );
    // Still the same fault: discovered once, its start kept.
    expect(metrics(offline)).toEqual([['pools_went_offline', 1]]);
    expect(offline.next?.faultSince).toEqual(at(90_000));
    const back = interpretPool(
      meta('cinode.resource.pool.updated', at(700_000)),
      pool(4, 'online'),
      offline.next,
    );
    expect(metrics(back)).toEqual([
      ['pools_recovered', 1],
      ['fault_recovery_ms', 610_000],
    ]);
    expect(back.next?.faultSince).toBeNull();
    expect(back.feed.map((f) => f.summary)).toEqual(['pool RP-1 offline -> online']);
  });

  it('counts no fault for a pool that never was online', () => {
    const pending = interpretPool(meta('x.y.z', t0), pool(1, 'pending_filing'), undefined);
    const offline = interpretPool(
      meta('cinode.resource.pool.offline', at(9_000)),
      pool(2, 'offline'),
      pending.next,
    );
    expect(metrics(offline)).toEqual([['pools_went_offline', 1]]);
    const online = interpretPool(
      meta('cinode.resource.pool.updated', at(10_000)),
      pool(3, 'online'),
      offline.next,
    );
    expect(metrics(online)).toEqual([]);
  });

  it('ignores an event older than the state it knows, and feeds no inventory-only update', () => {
    const known = interpretPool(meta('x.y.z', t0), pool(5, 'online'), undefined).next as PoolState;
    expect(
      interpretPool(meta('cinode.resource.pool.stale', at(1)), pool(4, 'stale'), known),
    ).toEqual({
      observations: [],
      feed: [],
    });
    const update = interpretPool(
      meta('cinode.resource.pool.updated', at(2)),
      pool(6, 'online'),
      known,
    );
    expect(update.feed).toEqual([]);
    expect(update.observations).toEqual([]);
    expect(update.next?.version).toBe(6);
  });
});

describe('interpretDemand', () => {
  it('counts a demand without candidates as such', () => {
    const result = interpretDemand(meta('cinode.market.demand.submitted', t0), {
      demandId: '0190a5e0-0000-7000-8000-000000000001',
      participantId: '0190a5e0-0000-7000-8000-000000000002',
      customerReference: '',
      poolClass: 'B',
      acceleratorModel: '',
      acceleratorCount: 0,
      durationHours: 1,
      userRegionCode: '',
      matched: 0,
      considered: 12,
      candidatePoolIds: [],
      submittedAt: t0.toISOString(),
    });
    expect(metrics(result)).toEqual([
      ['demands_submitted', 1],
      ['demands_without_candidates', 1],
      ['candidates_per_demand', 0],
    ]);
  });
});

describe('interpretAllocation', () => {
  const data = {
    allocationId: '0190a5e0-0000-7000-8000-000000000003',
    holdId: '0190a5e0-0000-7000-8000-000000000003',
    poolId: 'RP-1',
    providerParticipantId: 'p',
    orderReference: 'o',
    state: 'running' as const,
    detail: '',
    version: 2,
    changedAt: at(4_000).toISOString(),
  };

  it('times the first run of a task from its allocation, and only the first', () => {
    const first = interpretAllocation(
      meta('cinode.resource.allocation.state-changed', at(4_100)),
      data,
      '310000',
      { createdAt: t0, runningAt: null },
    );
    expect(metrics(first)).toEqual([
      ['tasks', 1],
      ['task_response_ms', 4_000],
    ]);
    expect(first.running).toEqual(at(4_000));
    const again = interpretAllocation(
      meta('cinode.resource.allocation.state-changed', at(5_000)),
      { ...data, version: 3 },
      '310000',
      { createdAt: t0, runningAt: at(4_000) },
    );
    expect(metrics(again)).toEqual([['tasks', 1]]);
  });
});
