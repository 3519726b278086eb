import type { PoolClassCode, PoolData } from '@cinode/contracts';

/** What selection knows of a pool: its latest version, reduced to what matching reads. */
export interface Offer {
  poolId: string;
  version: number;
  providerParticipantId: string;
  poolClass: PoolClassCode;
  regionCode: string;
  site: string;
  /** Accelerator models in lower case, with their kind and origin. */
  accelerators: ReadonlyArray<{ model: string; kind: 'GPU' | 'NPU'; domestic: boolean }>;
  securityLevel: number;
  renewableRatio: number;
  pue: number;
  gflopsPerWatt: number;
  price: PoolData['price'];
  /** Online with inventory: the only pools a demand can match. */
  selectable: boolean;
  /** Free capacity net of holds. */
  free: {
    cpuCores: number;
    gpuCards: number;
    npuCards: number;
    memoryGib: number;
    storageGib: number;
    fp16Tflops: number;
    fp32Tflops: number;
    downlinkMbps: number;
  };
}

export function offerOf(pool: PoolData): Offer {
  const inventory = pool.inventory;
  const held = pool.held;
  return {
    poolId: pool.poolId,
    version: pool.version,
    providerParticipantId: pool.providerParticipantId,
    poolClass: pool.poolClass,
    regionCode: pool.regionCode,
    site: pool.site,
    accelerators: pool.accelerators.map((a) => ({
      model: a.model.toLowerCase(),
      kind: a.kind,
      domestic: a.domestic,
    })),
    securityLevel: pool.securityLevel,
    renewableRatio: pool.renewableRatio,
    pue: pool.pue,
    gflopsPerWatt: pool.gflopsPerWatt,
    price: pool.price,
    selectable: pool.state === 'online' && inventory !== null,
    free: {
      cpuCores: Math.max(0, (inventory?.cpuCoresFree ?? 0) - held.cpuCores),
      gpuCards: Math.max(0, (inventory?.gpuCardsFree ?? 0) - held.gpuCards),
      npuCards: Math.max(0, (inventory?.npuCardsFree ?? 0) - held.npuCards),
      memoryGib: Math.max(0, (inventory?.memoryGibFree ?? 0) - held.memoryGib),
      storageGib: Math.max(0, (inventory?.storageGibFree ?? 0) - held.storageGib),
      fp16Tflops: inventory?.fp16TflopsFree ?? 0,
      fp32Tflops: inventory?.fp32TflopsFree ?? 0,
      downlinkMbps: inventory?.downlinkMbpsFree ?? 0,
    },
  };
}
