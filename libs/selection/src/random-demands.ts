import { PoolClass } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Demand } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { MODELS, REGIONS } from './fixtures';

/** A random but plausible demand (fixtures and benches). */
export function randomDemand(random: () => number): Demand {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const maybe = <T>(p: number, value: T, otherwise: T): T => (random() < p ? value : otherwise);
  const model = maybe(0.8, pick(MODELS).model, '');
  return {
    poolClass:
      random() < 0.5 ? PoolClass.POOL_CLASS_BARE_METAL : PoolClass.POOL_CLASS_VIRTUAL_MACHINE,
    acceleratorModel: random() < 0.5 ? model : model.toLowerCase(),
    acceleratorCount: model ? 1 + Math.floor(random() * 16) : 0,
    fp16Tflops: maybe(0.3, random() * 2_000, 0),
    fp32Tflops: maybe(0.2, random() * 200, 0),
    cpuCores: maybe(0.7, Math.floor(random() * 512), 0),
    memoryGib: maybe(0.7, Math.floor(random() * 4_096), 0),
    storageGib: maybe(0.4, Math.floor(random() * 100_000), 0),
    durationHours: 1 + Math.floor(random() * 720),
    allowedRegions: random() < 0.3 ? [pick(REGIONS), pick(REGIONS)] : [],
    userRegionCode: maybe(0.7, pick(REGIONS), ''),
    userSite: '',
    maxLatencyMs: 0,
    minBandwidthMbps: maybe(0.3, Math.floor(random() * 50_000), 0),
    maxPriceFenPerHour: maybe(0.3, Math.floor(random() * 100_000), 0),
    minSecurityLevel: maybe(0.4, 1 + Math.floor(random() * 4), 0),
    minRenewableRatio: maybe(0.3, random() * 0.8, 0),
    domesticOnly: random() < 0.2,
  };
}
