import type { PoolClassCode } from '@cinode/contracts';
import { FieldChecks } from '@cinode/common';
import { PoolClass } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Demand, Weights } from '@cinode/proto/gen/cinode/selection/v1/selection_service';

/** A demand, checked; numbers of 0 mean "no requirement". */
export interface DemandSpec {
  poolClass: PoolClassCode;
  /** Lower case; "" for none. */
  acceleratorModel: string;
  acceleratorCount: number;
  fp16Tflops: number;
  fp32Tflops: number;
  cpuCores: number;
  memoryGib: number;
  storageGib: number;
  durationHours: number;
  allowedRegions: ReadonlySet<string>;
  userRegionCode: string;
  /** "" when not given: then any line ending in the user's region reaches the user. */
  userSite: string;
  maxLatencyMs: number;
  minBandwidthMbps: number;
  maxPriceFenPerHour: number;
  minSecurityLevel: number;
  minRenewableRatio: number;
  domesticOnly: boolean;
}

export interface WeightSpec {
  price: number;
  latency: number;
  computeEfficiency: number;
  carbonEfficiency: number;
  security: number;
}

const REGION = /^\d{6}$/;
/** As pool sites and line endpoints are spelt. */
export const SITE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_UNITS = 1e12;
const MAX_ALLOWED_REGIONS = 64;
const MAX_TOP_K = 100;
export const DEFAULT_TOP_K = 10;

function whole(checks: FieldChecks, field: string, value: number, max = MAX_UNITS): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max)
    checks.add(field, `must be a whole number between 0 and ${max}`);
}

function real(checks: FieldChecks, field: string, value: number, max: number): void {
  if (!Number.isFinite(value) || value < 0 || value > max)
    checks.add(field, `must be a finite number between 0 and ${max}`);
}

/** Checks a Select request; every violation is named, `demand.*`, `weights.*`, `top_k`. */
export function checkSelectRequest(
  demand: Demand | undefined,
  weights: Weights | undefined,
  topK: number,
): { demand: DemandSpec; weights: WeightSpec; topK: number } {
  const checks = new FieldChecks();
  if (!demand) {
    checks.add('demand', 'is required');
    checks.throwIfAny();
  }
  const d = demand as Demand;
  checks.enumValue('demand.pool_class', d.poolClass, [
    PoolClass.POOL_CLASS_BARE_METAL,
    PoolClass.POOL_CLASS_VIRTUAL_MACHINE,
  ]);
  const model = d.acceleratorModel.trim();
  checks.text('demand.accelerator_model', model, { required: false, max: 64, line: true });
  whole(checks, 'demand.accelerator_count', d.acceleratorCount, 100_000);
  if (d.acceleratorCount > 0 && model === '')
    checks.add('demand.accelerator_count', 'needs demand.accelerator_model');
  real(checks, 'demand.fp16_tflops', d.fp16Tflops, MAX_UNITS);
  real(checks, 'demand.fp32_tflops', d.fp32Tflops, MAX_UNITS);
  whole(checks, 'demand.cpu_cores', d.cpuCores);
  whole(checks, 'demand.memory_gib', d.memoryGib);
  whole(checks, 'demand.storage_gib', d.storageGib);
  checks.range('demand.duration_hours', d.durationHours, 1, 8_760);
  if (d.allowedRegions.length > MAX_ALLOWED_REGIONS)
    checks.add('demand.allowed_regions', `must list at most ${MAX_ALLOWED_REGIONS} regions`);
  else
    d.allowedRegions.forEach((region, i) => {
      if (!REGION.test(region))
        checks.add(`demand.allowed_regions[${i}]`, 'must be a six-digit region code');
    });
  if (d.userRegionCode !== '' && !REGION.test(d.userRegionCode))
    checks.add('demand.user_region_code', 'must be a six-digit region code');
  checks.text('demand.user_site', d.userSite, {
    required: false,
    max: 64,
    pattern: SITE_PATTERN,
    patternHint: "must be letters, digits, '.', '_' or '-'",
  });
  if (d.userSite !== '' && d.userRegionCode === '')
    checks.add('demand.user_region_code', 'is required with demand.user_site');
  whole(checks, 'demand.max_latency_ms', d.maxLatencyMs, 60_000);
  if (d.maxLatencyMs > 0 && d.userRegionCode === '')
    checks.add('demand.user_region_code', 'is required with demand.max_latency_ms');
  whole(checks, 'demand.min_bandwidth_mbps', d.minBandwidthMbps);
  whole(checks, 'demand.max_price_fen_per_hour', d.maxPriceFenPerHour, Number.MAX_SAFE_INTEGER);
  whole(checks, 'demand.min_security_level', d.minSecurityLevel, 4);
  real(checks, 'demand.min_renewable_ratio', d.minRenewableRatio, 1);
  const w = weights ?? {
    price: 0,
    latency: 0,
    computeEfficiency: 0,
    carbonEfficiency: 0,
    security: 0,
  };
  for (const [key, wire] of [
    ['price', 'price'],
    ['latency', 'latency'],
    ['computeEfficiency', 'compute_efficiency'],
    ['carbonEfficiency', 'carbon_efficiency'],
    ['security', 'security'],
  ] as const)
    real(checks, `weights.${wire}`, w[key], 1_000);
  const k = topK === 0 ? DEFAULT_TOP_K : topK;
  checks.range('top_k', k, 1, MAX_TOP_K);
  checks.throwIfAny();
  const allZero = w.price + w.latency + w.computeEfficiency + w.carbonEfficiency + w.security === 0;
  return {
    demand: {
      poolClass: d.poolClass === PoolClass.POOL_CLASS_BARE_METAL ? 'A' : 'B',
      acceleratorModel: model.toLowerCase(),
      acceleratorCount: d.acceleratorCount,
      fp16Tflops: d.fp16Tflops,
      fp32Tflops: d.fp32Tflops,
      cpuCores: d.cpuCores,
      memoryGib: d.memoryGib,
      storageGib: d.storageGib,
      durationHours: d.durationHours,
      allowedRegions: new Set(d.allowedRegions),
      userRegionCode: d.userRegionCode,
      userSite: d.userSite,
      maxLatencyMs: d.maxLatencyMs,
      minBandwidthMbps: d.minBandwidthMbps,
      maxPriceFenPerHour: d.maxPriceFenPerHour,
      minSecurityLevel: d.minSecurityLevel,
      minRenewableRatio: d.minRenewableRatio,
      domesticOnly: d.domesticOnly,
    },
    weights: allZero
      ? { price: 1, latency: 1, computeEfficiency: 1, carbonEfficiency: 1, security: 1 }
      : {
          price: w.price,
          latency: w.latency,
          computeEfficiency: w.computeEfficiency,
          carbonEfficiency: w.carbonEfficiency,
          security: w.security,
        },
    topK: k,
  };
}
