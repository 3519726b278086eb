import type { InventoryData } from '@cinode/contracts';
import { FieldChecks } from '@cinode/common';
import { fromTimestamp } from '@cinode/grpc';
import type {
  Inventory,
  InventorySnapshot,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { checkPoolId } from '../pools/pool-input';

export const MAX_SNAPSHOTS_PER_BATCH = 500;
/** Most snapshots of consecutive stream batches applied in one transaction. */
export const MAX_SNAPSHOTS_PER_TRANSACTION = 1_000;
/** How far ahead of the node's clock a provider's observation time may be. */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
/** How old an observation may be: an agent catching up after an outage, not rewriting history. */
export const MAX_OBSERVATION_AGE_MS = 24 * 3_600_000;

/** A snapshot as applied: canonical pool id, checked inventory. */
export interface CheckedSnapshot {
  poolId: string;
  sequence: number;
  observedAt: Date;
  inventory: InventoryData;
  /** Observed more than MAX_OBSERVATION_AGE_MS ago: ignored, like a repeated sequence. */
  tooOld: boolean;
}

/** Pairs of (total, free) fields of Inventory, by their proto names. */
const PAIRS: ReadonlyArray<[keyof InventoryData, keyof InventoryData, string, string]> = [
  ['cpuCoresTotal', 'cpuCoresFree', 'cpu_cores_total', 'cpu_cores_free'],
  ['gpuCardsTotal', 'gpuCardsFree', 'gpu_cards_total', 'gpu_cards_free'],
  ['npuCardsTotal', 'npuCardsFree', 'npu_cards_total', 'npu_cards_free'],
  ['fp16TflopsTotal', 'fp16TflopsFree', 'fp16_tflops_total', 'fp16_tflops_free'],
  ['fp32TflopsTotal', 'fp32TflopsFree', 'fp32_tflops_total', 'fp32_tflops_free'],
  ['memoryGibTotal', 'memoryGibFree', 'memory_gib_total', 'memory_gib_free'],
  ['storageGibTotal', 'storageGibFree', 'storage_gib_total', 'storage_gib_free'],
  ['uplinkMbpsTotal', 'uplinkMbpsFree', 'uplink_mbps_total', 'uplink_mbps_free'],
  ['downlinkMbpsTotal', 'downlinkMbpsFree', 'downlink_mbps_total', 'downlink_mbps_free'],
];

/** Every field with its proto name; the TFLOPS fields are real numbers, the rest integers. */
const FIELDS: ReadonlyArray<[keyof InventoryData, string, 'count' | 'amount']> = [
  ['cpuServers', 'cpu_servers', 'count'],
  ['cpuCoresTotal', 'cpu_cores_total', 'count'],
  ['cpuCoresFree', 'cpu_cores_free', 'count'],
  ['gpuServers', 'gpu_servers', 'count'],
  ['gpuCardsTotal', 'gpu_cards_total', 'count'],
  ['gpuCardsFree', 'gpu_cards_free', 'count'],
  ['npuServers', 'npu_servers', 'count'],
  ['npuCardsTotal', 'npu_cards_total', 'count'],
  ['npuCardsFree', 'npu_cards_free', 'count'],
  ['fp16TflopsTotal', 'fp16_tflops_total', 'amount'],
  ['fp16TflopsFree', 'fp16_tflops_free', 'amount'],
  ['fp32TflopsTotal', 'fp32_tflops_total', 'amount'],
  ['fp32TflopsFree', 'fp32_tflops_free', 'amount'],
  ['memoryGibTotal', 'memory_gib_total', 'count'],
  ['memoryGibFree', 'memory_gib_free', 'count'],
  ['storageGibTotal', 'storage_gib_total', 'count'],
  ['storageGibFree', 'storage_gib_free', 'count'],
  ['uplinkMbpsTotal', 'uplink_mbps_total', 'count'],
  ['uplinkMbpsFree', 'uplink_mbps_free', 'count'],
  ['uplinkTrafficGbFree', 'uplink_traffic_gb_free', 'count'],
  ['downlinkMbpsTotal', 'downlink_mbps_total', 'count'],
  ['downlinkMbpsFree', 'downlink_mbps_free', 'count'],
  ['downlinkTrafficGbFree', 'downlink_traffic_gb_free', 'count'],
];

/** Above any real installation (a billion cores or GiB, an exaflop in TFLOPS); far below 2^53. */
const MAX_VALUE = 1e12;

/** Checks an Inventory message into `checks` under `field`; returns it as stored. */
export function checkInventory(
  checks: FieldChecks,
  field: string,
  inventory: Inventory | undefined,
): InventoryData | undefined {
  if (!inventory) {
    checks.add(field, 'is required');
    return undefined;
  }
  let ok = true;
  for (const [key, wire, kind] of FIELDS) {
    const value = inventory[key];
    const valid =
      kind === 'count'
        ? Number.isSafeInteger(value) && value >= 0 && value <= MAX_VALUE
        : Number.isFinite(value) && value >= 0 && value <= MAX_VALUE;
    if (!valid) {
      ok = false;
      checks.add(
        `${field}.${wire}`,
        kind === 'count'
          ? `must be a whole number between 0 and ${MAX_VALUE}`
          : `must be a finite number between 0 and ${MAX_VALUE}`,
      );
    }
  }
  for (const [total, free, totalWire, freeWire] of PAIRS) {
    if (inventory[free] > inventory[total])
      checks.add(`${field}.${freeWire}`, `must not exceed ${totalWire}`);
  }
  if (!ok) return undefined;
  const data = {} as Record<keyof InventoryData, number>;
  for (const [key] of FIELDS) data[key] = inventory[key];
  return data;
}

/** Checks a batch of snapshots; violations name `snapshots[i].field`. */
export function checkSnapshots(
  snapshots: InventorySnapshot[],
  now: number = Date.now(),
): CheckedSnapshot[] {
  const checks = new FieldChecks();
  if (snapshots.length === 0) checks.add('snapshots', 'must hold at least one snapshot');
  if (snapshots.length > MAX_SNAPSHOTS_PER_BATCH) {
    checks.add('snapshots', `must hold at most ${MAX_SNAPSHOTS_PER_BATCH} snapshots`);
    checks.throwIfAny();
  }
  const checked: CheckedSnapshot[] = [];
  snapshots.forEach((snapshot, i) => {
    const at = `snapshots[${i}]`;
    const poolId = checkPoolId(checks, `${at}.pool_id`, snapshot.poolId);
    if (!Number.isSafeInteger(snapshot.sequence) || snapshot.sequence < 1)
      checks.add(`${at}.sequence`, 'must be a whole number of 1 or more');
    let observedAt = new Date(now);
    if (snapshot.observedAt) {
      checks.timestamp(`${at}.observed_at`, snapshot.observedAt);
      const observed = fromTimestamp(snapshot.observedAt);
      if (Number.isFinite(observed.getTime())) {
        if (observed.getTime() > now + MAX_CLOCK_AHEAD_MS)
          checks.add(`${at}.observed_at`, 'must not be more than 5 minutes ahead of the node');
        observedAt = observed;
      }
    }
    const inventory = checkInventory(checks, `${at}.inventory`, snapshot.inventory);
    if (inventory)
      checked.push({
        poolId,
        sequence: snapshot.sequence,
        observedAt,
        inventory,
        tooOld: observedAt.getTime() < now - MAX_OBSERVATION_AGE_MS,
      });
  });
  checks.throwIfAny();
  return checked;
}

/** The start of the minute a time falls in. */
/** The oldest minute the history keeps: HISTORY_RETENTION_DAYS before `now`. */
export function historyKeptSince(
  config: { HISTORY_RETENTION_DAYS: number },
  now: number = Date.now(),
): Date {
  return new Date(now - config.HISTORY_RETENTION_DAYS * 86_400_000);
}

export function minuteOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000);
}
