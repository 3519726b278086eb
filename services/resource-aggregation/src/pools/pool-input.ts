import type { AcceleratorData, PoolClassCode, PriceData } from '@cinode/contracts';
import { FieldChecks, NotFoundError } from '@cinode/common';
import {
  AcceleratorKind,
  PoolClass,
  type PoolSpec,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { ErrorReason } from '../errors';

/** A pool's static description, checked. */
export interface PoolSpecData {
  name: string;
  poolClass: PoolClassCode;
  site: string;
  regionCode: string;
  accelerators: AcceleratorData[];
  securityLevel: number;
  datacenterTier: number;
  pue: number;
  renewableRatio: number;
  gflopsPerWatt: number;
  price: PriceData;
}

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const SITE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const REGION_PATTERN = /^\d{6}$/;
/** A resource pool identifier: national prefix, node code, object type RP, serial, check character. */
export const POOL_IDENTIFIER = /^[A-Z]{2,8}\.[RI]\d{4}\.RP\.\d{8}[0-9A-Z]$/;
const MAX_ACCELERATORS = 16;
/** Above any real price per unit-hour (10 million yuan), far below 2^53. */
const MAX_PRICE_FEN = 1_000_000_000;

const CLASS_CODES: Readonly<Partial<Record<PoolClass, PoolClassCode>>> = {
  [PoolClass.POOL_CLASS_BARE_METAL]: 'A',
  [PoolClass.POOL_CLASS_VIRTUAL_MACHINE]: 'B',
};
const ACCELERATOR_KINDS: Readonly<Partial<Record<AcceleratorKind, 'GPU' | 'NPU'>>> = {
  [AcceleratorKind.ACCELERATOR_KIND_GPU]: 'GPU',
  [AcceleratorKind.ACCELERATOR_KIND_NPU]: 'NPU',
};

export function poolClassOf(code: PoolClassCode): PoolClass {
  return code === 'A' ? PoolClass.POOL_CLASS_BARE_METAL : PoolClass.POOL_CLASS_VIRTUAL_MACHINE;
}

export function acceleratorKindOf(kind: 'GPU' | 'NPU'): AcceleratorKind {
  return kind === 'GPU'
    ? AcceleratorKind.ACCELERATOR_KIND_GPU
    : AcceleratorKind.ACCELERATOR_KIND_NPU;
}

/** The proto enum as the stored class code, or undefined for unspecified or unknown values. */
export function classCodeOf(value: PoolClass): PoolClassCode | undefined {
  return CLASS_CODES[value];
}

function realIn(checks: FieldChecks, field: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max)
    checks.add(field, `must be between ${min} and ${max}`);
}

/** Checks a PoolSpec, collecting every violation under `field.*`; returns the stored shape. */
export function checkPoolSpec(
  spec: PoolSpec | undefined,
  checks: FieldChecks,
  field = 'spec',
): PoolSpecData | undefined {
  if (!spec) {
    checks.add(field, 'is required');
    return undefined;
  }
  const name = spec.name.trim();
  checks
    .text(`${field}.name`, name, { max: 200, line: true })
    .text(`${field}.site`, spec.site, {
      max: 64,
      pattern: SITE_PATTERN,
      patternHint: "must be 1 to 64 letters, digits, '.', '_' or '-'",
    })
    .text(`${field}.region_code`, spec.regionCode, {
      max: 6,
      pattern: REGION_PATTERN,
      patternHint: 'must be a six-digit administrative division code',
    })
    .enumValue(`${field}.pool_class`, spec.poolClass, [
      PoolClass.POOL_CLASS_BARE_METAL,
      PoolClass.POOL_CLASS_VIRTUAL_MACHINE,
    ])
    .range(`${field}.security_level`, spec.securityLevel, 1, 4)
    .range(`${field}.datacenter_tier`, spec.datacenterTier, 1, 4);
  realIn(checks, `${field}.pue`, spec.pue, 1, 3);
  realIn(checks, `${field}.renewable_ratio`, spec.renewableRatio, 0, 1);
  if (!Number.isFinite(spec.gflopsPerWatt) || spec.gflopsPerWatt <= 0 || spec.gflopsPerWatt > 1000)
    checks.add(`${field}.gflops_per_watt`, 'must be above 0 and at most 1000');
  const accelerators: AcceleratorData[] = [];
  if (spec.accelerators.length > MAX_ACCELERATORS) {
    checks.add(`${field}.accelerators`, `must have at most ${MAX_ACCELERATORS} entries`);
  } else {
    const models = new Set<string>();
    spec.accelerators.forEach((accelerator, i) => {
      const at = `${field}.accelerators[${i}]`;
      const model = accelerator.model.trim();
      checks
        .enumValue(`${at}.kind`, accelerator.kind, [
          AcceleratorKind.ACCELERATOR_KIND_GPU,
          AcceleratorKind.ACCELERATOR_KIND_NPU,
        ])
        .text(`${at}.model`, model, { max: 64, line: true });
      if (models.has(model.toLowerCase())) checks.add(`${at}.model`, 'is listed twice');
      models.add(model.toLowerCase());
      const kind = ACCELERATOR_KINDS[accelerator.kind];
      if (kind) accelerators.push({ kind, model, domestic: accelerator.domestic });
    });
  }
  const price = spec.price;
  const priceData: PriceData = {
    cpuCoreHourFen: price?.cpuCoreHourFen ?? 0,
    gpuCardHourFen: price?.gpuCardHourFen ?? 0,
    npuCardHourFen: price?.npuCardHourFen ?? 0,
    memoryGibHourFen: price?.memoryGibHourFen ?? 0,
    storageGibHourFen: price?.storageGibHourFen ?? 0,
  };
  const priceFields: Array<[keyof PriceData, string]> = [
    ['cpuCoreHourFen', 'cpu_core_hour_fen'],
    ['gpuCardHourFen', 'gpu_card_hour_fen'],
    ['npuCardHourFen', 'npu_card_hour_fen'],
    ['memoryGibHourFen', 'memory_gib_hour_fen'],
    ['storageGibHourFen', 'storage_gib_hour_fen'],
  ];
  for (const [key, wire] of priceFields) {
    const value = priceData[key];
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_PRICE_FEN)
      checks.add(`${field}.price.${wire}`, `must be an integer between 0 and ${MAX_PRICE_FEN}`);
  }
  const poolClass = CLASS_CODES[spec.poolClass];
  if (!poolClass) return undefined;
  return {
    name,
    poolClass,
    site: spec.site,
    regionCode: spec.regionCode,
    accelerators,
    securityLevel: spec.securityLevel,
    datacenterTier: spec.datacenterTier,
    pue: spec.pue,
    renewableRatio: spec.renewableRatio,
    gflopsPerWatt: spec.gflopsPerWatt,
    price: priceData,
  };
}

/** A pool id as stored (upper case), or a violation on `field`. */
export function checkPoolId(checks: FieldChecks, field: string, value: string): string {
  const canonical = value.trim().toUpperCase();
  checks.text(field, canonical, {
    max: 64,
    pattern: POOL_IDENTIFIER,
    patternHint: 'must be a resource pool identifier',
  });
  return canonical;
}

/** A pool id, or INVALID_ARGUMENT naming `field`. */
export function poolIdOf(value: string, field = 'pool_id'): string {
  const checks = new FieldChecks();
  const id = checkPoolId(checks, field, value);
  checks.throwIfAny();
  return id;
}

export function poolNotFound(poolId: string): NotFoundError {
  return new NotFoundError(ErrorReason.POOL_NOT_FOUND, `pool ${poolId} does not exist`);
}
