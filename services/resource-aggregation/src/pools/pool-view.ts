import type { HeldData, InventoryData, PoolData, PoolStateName } from '@cinode/contracts';
import {
  MAX_POOLS_PER_REPORT_EVENT,
  MAX_REPORT_EVENT_BYTES,
  PoolUpdated,
  PoolsReported,
  checkReportedPools,
  eventOf,
  poolJsonBound,
  type EventContract,
  type EventMessage,
  type PoolsReportedData,
} from '@cinode/contracts';
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
    securityLevelCap: pool.securityLevelCap,
    quarantined: pool.quarantined,
  };
}

/** The columns of `pool p` that poolDataOfRow reads, for raw queries on the hot path. */
export const POOL_DATA_COLUMNS = `p.pool_id, p.version, p.provider_participant_id, p.name,
  p.pool_class, p.site, p.region_code, p.accelerators, p.security_level, p.datacenter_tier, p.pue,
  p.renewable_ratio, p.gflops_per_watt, p.price, p.filing, p.liveness, p.inventory,
  p.inventory_sequence, p.held, p.last_reported_at, p.security_level_cap, p.quarantined`;

/** A row of POOL_DATA_COLUMNS as node-postgres returns it (bigint as text, jsonb parsed). */
export interface PoolDataRow {
  pool_id: string;
  version: string;
  provider_participant_id: string;
  name: string;
  pool_class: PoolEntity['poolClass'];
  site: string;
  region_code: string;
  accelerators: PoolEntity['accelerators'];
  security_level: number;
  datacenter_tier: number;
  pue: number;
  renewable_ratio: number;
  gflops_per_watt: number;
  price: PoolEntity['price'];
  filing: PoolEntity['filing'];
  liveness: PoolEntity['liveness'];
  inventory: PoolEntity['inventory'];
  inventory_sequence: string;
  held: PoolEntity['held'];
  last_reported_at: Date | null;
  security_level_cap: number | null;
  quarantined: boolean;
}

/** What pool events carry, from a raw row: the same as poolDataOf of the entity. */
export function poolDataOfRow(row: PoolDataRow): PoolData {
  return {
    poolId: row.pool_id,
    version: Number(row.version),
    providerParticipantId: row.provider_participant_id,
    name: row.name,
    poolClass: row.pool_class,
    site: row.site,
    regionCode: row.region_code,
    accelerators: row.accelerators,
    securityLevel: row.security_level,
    datacenterTier: row.datacenter_tier,
    pue: row.pue,
    renewableRatio: row.renewable_ratio,
    gflopsPerWatt: row.gflops_per_watt,
    price: row.price,
    state: poolStateOf(row),
    inventory: row.inventory,
    inventorySequence: Number(row.inventory_sequence),
    held: row.held,
    lastReportedAt: row.last_reported_at ? row.last_reported_at.toISOString() : null,
    securityLevelCap: row.security_level_cap,
    quarantined: row.quarantined,
  };
}

/**
 * The events of pools their providers' reports changed: PoolsReported, in pool id order, up to
 * MAX_POOLS_PER_REPORT_EVENT pools and MAX_REPORT_EVENT_BYTES (by poolJsonBound) each, every pool
 * checked against its contract first.
 */
export function poolsReportedEvents(pools: PoolData[]): EventMessage<PoolsReportedData>[] {
  const sorted = checkReportedPools(pools).sort((a, b) =>
    a.poolId < b.poolId ? -1 : a.poolId > b.poolId ? 1 : 0,
  );
  const events: EventMessage<PoolsReportedData>[] = [];
  let batch: PoolData[] = [];
  let bytes = 0;
  for (const pool of sorted) {
    const size = poolJsonBound(pool);
    if (
      batch.length > 0 &&
      (batch.length === MAX_POOLS_PER_REPORT_EVENT || bytes + size > MAX_REPORT_EVENT_BYTES)
    ) {
      events.push(eventOf(PoolsReported, { pools: batch }));
      batch = [];
      bytes = 0;
    }
    batch.push(pool);
    bytes += size;
  }
  if (batch.length > 0) events.push(eventOf(PoolsReported, { pools: batch }));
  return events;
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

/** The inventory's free field each held resource is taken from (and free capacity is net of). */
export const FREE_FIELD_OF: Readonly<Record<keyof HeldData, keyof InventoryData>> = Object.freeze({
  cpuCores: 'cpuCoresFree',
  gpuCards: 'gpuCardsFree',
  npuCards: 'npuCardsFree',
  memoryGib: 'memoryGibFree',
  storageGib: 'storageGibFree',
});

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
    securityLevelCap: pool.securityLevelCap ?? 0,
    quarantined: pool.quarantined,
  };
}
