import type { ComputeInformation } from '@cinode/contracts';
import type {
  GetComputeMapResponse,
  Inventory,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';

/**
 * The compute information of a report from resource aggregation's compute map: its node-wide
 * totals and free capacity (free net of holds), every pool counted once (a pool with several
 * accelerator models is in several of the map's cells, so the cells are not summed).
 */
export function computeInformationOf(
  map: Pick<GetComputeMapResponse, 'total' | 'free'>,
  asOf: Date,
): ComputeInformation {
  const total = orZero(map.total);
  const free = orZero(map.free);
  return {
    as_of: asOf.toISOString(),
    uplink_mbps_total: total.uplinkMbpsTotal,
    uplink_mbps_free: free.uplinkMbpsFree,
    uplink_traffic_gb_free: free.uplinkTrafficGbFree,
    downlink_mbps_total: total.downlinkMbpsTotal,
    downlink_mbps_free: free.downlinkMbpsFree,
    downlink_traffic_gb_free: free.downlinkTrafficGbFree,
    memory_gib_total: total.memoryGibTotal,
    memory_gib_free: free.memoryGibFree,
    storage_gib_total: total.storageGibTotal,
    storage_gib_free: free.storageGibFree,
    cpu_servers: total.cpuServers,
    cpu_cores_total: total.cpuCoresTotal,
    cpu_cores_free: free.cpuCoresFree,
    gpu_servers: total.gpuServers,
    gpu_cards_total: total.gpuCardsTotal,
    gpu_cards_free: free.gpuCardsFree,
    npu_servers: total.npuServers,
    npu_cards_total: total.npuCardsTotal,
    npu_cards_free: free.npuCardsFree,
    fp16_tflops_total: round3(total.fp16TflopsTotal),
    fp16_tflops_free: round3(free.fp16TflopsFree),
    fp32_tflops_total: round3(total.fp32TflopsTotal),
    fp32_tflops_free: round3(free.fp32TflopsFree),
  };
}

const INVENTORY_KEYS = [
  'cpuServers',
  'cpuCoresTotal',
  'cpuCoresFree',
  'gpuServers',
  'gpuCardsTotal',
  'gpuCardsFree',
  'npuServers',
  'npuCardsTotal',
  'npuCardsFree',
  'fp16TflopsTotal',
  'fp16TflopsFree',
  'fp32TflopsTotal',
  'fp32TflopsFree',
  'memoryGibTotal',
  'memoryGibFree',
  'storageGibTotal',
  'storageGibFree',
  'uplinkMbpsTotal',
  'uplinkMbpsFree',
  'uplinkTrafficGbFree',
  'downlinkMbpsTotal',
  'downlinkMbpsFree',
  'downlinkTrafficGbFree',
] as const satisfies readonly (keyof Inventory)[];

/** The inventory, or zeros for an empty map (no pools: every figure 0, none absent). */
function orZero(inventory: Inventory | undefined): Inventory {
  const out = Object.fromEntries(INVENTORY_KEYS.map((k) => [k, 0])) as unknown as Inventory;
  if (inventory) for (const key of INVENTORY_KEYS) out[key] = inventory[key];
  return out;
}

/** Sums of doubles drift in the last bits; three decimals of a TFLOPS is plenty. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
