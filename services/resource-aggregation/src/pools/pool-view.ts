import type { HeldData, InventoryData, PoolData, PoolStateName } from '@cinode/contracts';
import { PoolUpdated, eventOf, type EventContract, type EventMessage } from '@cinode/contracts';
import {
  PoolState,
  type Inventory,
  type Pool,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { toTimestamp } from '@cinode/grpc';
import { acceleratorKindOf, poolClassOf } from './pool-input';
import type { PoolEntity } from './pool.entity';

export const NOTHING_HELD: HeldData = Object.freeze({
  cpuCores: 0,
  gpuCards: 0,
  npuCards: 0,
  memoryGib: 0,
  storageGib: 0,
});

/** Where a pool stands, from its filing and its provider's reports. */
export function poolStateOf(pool: Pick<PoolEntity, 'filing' | 'liveness'>): PoolStateName {
  if (pool.filing === 'pending') return 'pending_filing';
  if (pool.filing === 'suspended') return 'suspended';
  switch (pool.liveness) {
    case 'online':
      return 'online';
    case 'stale':
      return 'stale';
    default:
      return 'offline';
  }
}

const STATE_MESSAGES: Readonly<Record<PoolStateName, PoolState>> = {
  pending_filing: PoolState.POOL_STATE_PENDING_FILING,
  online: PoolState.POOL_STATE_ONLINE,
  stale: PoolState.POOL_STATE_STALE,
  offline: PoolState.POOL_STATE_OFFLINE,
  suspended: PoolState.POOL_STATE_SUSPENDED,
};

export function poolStateMessageOf(state: PoolStateName): PoolState {
  return STATE_MESSAGES[state];
}

/** The stored state name of a PoolState filter; undefined for unspecified or unknown. */
export function poolStateNameOf(state: PoolState): PoolStateName | undefined {
  return (Object.keys(STATE_MESSAGES) as PoolStateName[]).find((k) => STATE_MESSAGES[k] === state);
}

/** What pool events carry: the whole pool as of its version. */
export function poolDataOf(pool: PoolEntity): PoolData {
  return {
    poolId: pool.poolId,
    version: pool.version,
    providerParticipantId: pool.providerParticipantId,
    name: pool.name,
    poolClass: pool.poolClass,
    site: pool.site,
    regionCode: pool.regionCode,
    accelerators: pool.accelerators,
    securityLevel: pool.securityLevel,
    datacenterTier: pool.datacenterTier,
    pue: pool.pue,
    renewableRatio: pool.renewableRatio,
    gflopsPerWatt: pool.gflopsPerWatt,
    price: pool.price,
    state: poolStateOf(pool),
    inventory: pool.inventory,
    inventorySequence: pool.inventorySequence,
    held: pool.held,
    lastReportedAt: pool.lastReportedAt ? pool.lastReportedAt.toISOString() : null,
  };
}

/** The event of a pool change, `PoolUpdated` unless another contract is named. */
export function poolEvent(
  pool: PoolEntity,
  contract: EventContract<PoolData> = PoolUpdated,
): EventMessage<PoolData> {
  return eventOf(contract, poolDataOf(pool));
}

export function inventoryMessageOf(inventory: InventoryData): Inventory {
  return { ...inventory };
}

/** Held capacity as an Inventory message (only the fields a hold takes are set). */
export function heldMessageOf(held: HeldData): Inventory {
  return {
    ...EMPTY_INVENTORY,
    cpuCoresFree: held.cpuCores,
    gpuCardsFree: held.gpuCards,
    npuCardsFree: held.npuCards,
    memoryGibFree: held.memoryGib,
    storageGibFree: held.storageGib,
  };
}

export const EMPTY_INVENTORY: InventoryData = Object.freeze({
  cpuServers: 0,
  cpuCoresTotal: 0,
  cpuCoresFree: 0,
  gpuServers: 0,
  gpuCardsTotal: 0,
  gpuCardsFree: 0,
  npuServers: 0,
  npuCardsTotal: 0,
  npuCardsFree: 0,
  fp16TflopsTotal: 0,
  fp16TflopsFree: 0,
  fp32TflopsTotal: 0,
  fp32TflopsFree: 0,
  memoryGibTotal: 0,
  memoryGibFree: 0,
  storageGibTotal: 0,
  storageGibFree: 0,
  uplinkMbpsTotal: 0,
  uplinkMbpsFree: 0,
  uplinkTrafficGbFree: 0,
  downlinkMbpsTotal: 0,
  downlinkMbpsFree: 0,
  downlinkTrafficGbFree: 0,
});

export function toPoolMessage(pool: PoolEntity): Pool {
  return {
    poolId: pool.poolId,
    providerParticipantId: pool.providerParticipantId,
    spec: {
      name: pool.name,
      poolClass: poolClassOf(pool.poolClass),
      site: pool.site,
      regionCode: pool.regionCode,
      accelerators: pool.accelerators.map((a) => ({
        kind: acceleratorKindOf(a.kind),
        model: a.model,
        domestic: a.domestic,
      })),
      securityLevel: pool.securityLevel,
      datacenterTier: pool.datacenterTier,
      pue: pool.pue,
      renewableRatio: pool.renewableRatio,
      gflopsPerWatt: pool.gflopsPerWatt,
      price: { ...pool.price },
    },
    state: poolStateMessageOf(poolStateOf(pool)),
    inventory: pool.inventory ? inventoryMessageOf(pool.inventory) : undefined,
    held: heldMessageOf(pool.held),
    inventorySequence: pool.inventorySequence,
    lastReportedAt: pool.lastReportedAt ? toTimestamp(pool.lastReportedAt) : undefined,
    registeredAt: toTimestamp(pool.registeredAt),
    stateChangedAt: toTimestamp(pool.stateChangedAt),
    version: pool.version,
  };
}
