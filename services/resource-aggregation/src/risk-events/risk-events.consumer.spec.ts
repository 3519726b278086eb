import {
  PoolUpdated,
  RiskChanged,
  type PoolData,
  type ReceivedEvent,
  type RiskChangedData,
} from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import type { EventConsumerRegistry, EventHandlerContext } from '@cinode/events';
import { FakeTable, FakeUnitOfWork } from '@cinode/testing';
import { EMPTY_INVENTORY, NOTHING_HELD } from '../pools/pool-view';
import type { PoolEntity } from '../pools/pool.entity';
import type { PoolRisk, PoolsRepository } from '../pools/pools.repository';
import { RiskEventsConsumer } from './risk-events.consumer';

const POOL_ID = 'CN.R0001.RP.000000011';
const UNREGISTERED = 'CN.R0001.RP.000000029';

function pool(): PoolEntity {
  const now = new Date();
  return {
    poolId: POOL_ID,
    providerParticipantId: 'prov-1',
    name: 'Lingang GPU',
    poolClass: 'A',
    site: 'sh-1',
    regionCode: '310115',
    accelerators: [],
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
    inventory: { ...EMPTY_INVENTORY },
    inventorySequence: 1,
    observedAt: now,
    lastReportedAt: now,
    held: { ...NOTHING_HELD },
    version: 4,
    securityLevelCap: null,
    quarantined: false,
    riskVersion: 0,
    contractVersion: 1,
    registeredAt: now,
    stateChangedAt: now,
  };
}

/** The consumer over in-memory pools and recorded risks, as the repository's SQL keeps them. */
function subject() {
  const pools = new FakeTable<string, PoolEntity>();
  const risks = new FakeTable<string, PoolRisk>();
  const uow = new FakeUnitOfWork(pools, risks);
  pools.rows.set(POOL_ID, pool());
  const repository = {
    lockIdentifier: async () => undefined,
    recordRisk: async (_tx: Tx, poolId: string, risk: PoolRisk) => {
      const held = risks.rows.get(poolId);
      if (held && held.version >= risk.version) return false;
      risks.rows.set(poolId, { ...risk });
      return true;
    },
    lock: async (_tx: Tx, poolId: string) => {
      const row = pools.rows.get(poolId);
      return row && { ...row };
    },
    saveRisk: async (_tx: Tx, saved: PoolEntity) => {
      const row = pools.rows.get(saved.poolId);
      if (!row) throw new Error('no such pool');
      pools.rows.set(saved.poolId, {
        ...row,
        securityLevelCap: saved.securityLevelCap,
        quarantined: saved.quarantined,
        riskVersion: saved.riskVersion,
        version: saved.version,
      });
    },
  } as unknown as PoolsRepository;
  const consumer = new RiskEventsConsumer({} as EventConsumerRegistry, repository);
  const deliver = (data: Partial<RiskChangedData> & { version: number }) =>
    uow.run((tx) =>
      consumer.handle(
        {
          type: RiskChanged.type,
          contract: RiskChanged,
          data: {
            subjectKind: 'pool',
            subjectId: POOL_ID,
            score: 60,
            level: 'high',
            previousLevel: 'medium',
            securityLevelCap: null,
            quarantined: false,
            providerParticipantId: 'prov-1',
            assessedAt: new Date().toISOString(),
            ...data,
          },
        } as ReceivedEvent<typeof RiskChanged>,
        { tx } as EventHandlerContext,
      ),
    );
  return {
    deliver,
    pool: () => pools.rows.get(POOL_ID),
    risks,
    updates: () => uow.dataOf<PoolData>(PoolUpdated.type),
  };
}

describe(RiskEventsConsumer.name, () => {
  it("caps the pool's level and emits PoolUpdated with the pool's next version", async () => {
    const s = subject();
    await s.deliver({ version: 1, securityLevelCap: 1 });
    expect(s.pool()).toMatchObject({ securityLevelCap: 1, quarantined: false, riskVersion: 1 });
    expect(s.updates()).toEqual([
      expect.objectContaining({
        poolId: POOL_ID,
        version: 5,
        securityLevelCap: 1,
        quarantined: false,
      }),
    ]);
  });

  it('applies the newest version only: a late older one and a duplicate change nothing', async () => {
    const s = subject();
    await s.deliver({ version: 3, securityLevelCap: 2, quarantined: true });
    await s.deliver({ version: 2, securityLevelCap: null, quarantined: false });
    await s.deliver({ version: 3, securityLevelCap: 2, quarantined: true });
    expect(s.pool()).toMatchObject({
      securityLevelCap: 2,
      quarantined: true,
      riskVersion: 3,
      version: 5,
    });
    expect(s.updates()).toHaveLength(1);
    await s.deliver({ version: 4, securityLevelCap: null, quarantined: false });
    expect(s.pool()).toMatchObject({ securityLevelCap: null, quarantined: false, riskVersion: 4 });
    expect(s.updates().map((u) => [u.version, u.securityLevelCap, u.quarantined])).toEqual([
      [5, 2, true],
      [6, null, false],
    ]);
  });

  it('emits nothing when a newer risk restricts the pool as before, and records its version', async () => {
    const s = subject();
    await s.deliver({ version: 1, securityLevelCap: 2 });
    await s.deliver({ version: 2, securityLevelCap: 2, score: 70 });
    expect(s.updates()).toHaveLength(1);
    expect(s.pool()).toMatchObject({ securityLevelCap: 2, riskVersion: 2, version: 5 });
  });

  it('records the risk of a pool not registered here yet, for its registration to start from', async () => {
    const s = subject();
    await s.deliver({ version: 7, subjectId: UNREGISTERED.toLowerCase(), quarantined: true });
    expect(s.risks.rows.get(UNREGISTERED)).toEqual({
      securityLevelCap: null,
      quarantined: true,
      version: 7,
    });
    expect(s.updates()).toEqual([]);
  });

  it("ignores a participant's risk and a subject that is no pool identifier", async () => {
    const s = subject();
    await s.deliver({
      version: 1,
      subjectKind: 'participant',
      subjectId: POOL_ID,
      quarantined: true,
    });
    await s.deliver({ version: 1, subjectId: 'not-a-pool', quarantined: true });
    expect(s.pool()).toMatchObject({ quarantined: false, riskVersion: 0 });
    expect(s.risks.rows.size).toBe(0);
    expect(s.updates()).toEqual([]);
  });
});
