import type { PoolData, PoolStateName } from '@cinode/contracts';
import { fromTimestamp } from '@cinode/grpc';
import {
  AcceleratorKind,
  PoolClass,
  PoolState,
  type Inventory,
  type Pool,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';

const STATES: Readonly<Partial<Record<PoolState, PoolStateName>>> = {
  [PoolState.POOL_STATE_PENDING_FILING]: 'pending_filing',
  [PoolState.POOL_STATE_ONLINE]: 'online',
  [PoolState.POOL_STATE_STALE]: 'stale',
  [PoolState.POOL_STATE_OFFLINE]: 'offline',
  [PoolState.POOL_STATE_SUSPENDED]: 'suspended',
};

/** A pool as ListPools answers it, in the shape its events carry. */
export function poolDataOfMessage(pool: Pool): PoolData {
  const spec = pool.spec;
  if (!spec) throw new Error(`pool ${pool.poolId} came without its spec`);
  const held: Inventory | undefined = pool.held;
  return {
    poolId: pool.poolId,
    version: pool.version,
    providerParticipantId: pool.providerParticipantId,
    name: spec.name,
    poolClass: spec.poolClass === PoolClass.POOL_CLASS_BARE_METAL ? 'A' : 'B',
    site: spec.site,
    regionCode: spec.regionCode,
    accelerators: spec.accelerators.map((a) => ({
      kind: a.kind === AcceleratorKind.ACCELERATOR_KIND_NPU ? 'NPU' : 'GPU',
      model: a.model,
      domestic: a.domestic,
    })),
    securityLevel: spec.securityLevel,
    datacenterTier: spec.datacenterTier,
    pue: spec.pue,
    renewableRatio: spec.renewableRatio,
    gflopsPerWatt: spec.gflopsPerWatt,
    price: {
      cpuCoreHourFen: spec.price?.cpuCoreHourFen ?? 0,
      gpuCardHourFen: spec.price?.gpuCardHourFen ?? 0,
      npuCardHourFen: spec.price?.npuCardHourFen ?? 0,
      memoryGibHourFen: spec.price?.memoryGibHourFen ?? 0,
      storageGibHourFen: spec.price?.storageGibHourFen ?? 0,
    },
    state: STATES[pool.state] ?? 'offline',
    inventory: pool.inventory ? { ...pool.inventory } : null,
    inventorySequence: pool.inventorySequence,
    held: {
      cpuCores: held?.cpuCoresFree ?? 0,
      gpuCards: held?.gpuCardsFree ?? 0,
      npuCards: held?.npuCardsFree ?? 0,
      memoryGib: held?.memoryGibFree ?? 0,
      storageGib: held?.storageGibFree ?? 0,
    },
    lastReportedAt: pool.lastReportedAt ? fromTimestamp(pool.lastReportedAt).toISOString() : null,
    // 0 on the wire: no cap (and what an older resource aggregation sends).
    securityLevelCap: pool.securityLevelCap === 0 ? null : pool.securityLevelCap,
    quarantined: pool.quarantined,
  };
}
