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
  /**
   * The level selection credits the pool with: its claimed level, lowered to the security
   * service's cap while one applies (`min(claimed, cap ?? claimed)`). Demands' minimum levels,
   * the index's level cells and the security criterion of the score all read this one.
   */
  securityLevel: number;
  /** The level its provider claims (spec), before any cap. */
  claimedSecurityLevel: number;
  /** The security service's cap on the level; null when none applies. */
  securityLevelCap: number | null;
  /** Quarantined by the security service (the pool or its provider): never selectable. */
  quarantined: boolean;
  renewableRatio: number;
  pue: number;
  gflopsPerWatt: number;
  price: PoolData['price'];
  /** Online with inventory and not quarantined: the only pools a demand can match. */
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

type Accelerators = Offer['accelerators'];

/**
 * One copy of what many pools share: providers, regions, sites, and accelerator lists (a handful
 * of distinct ones among any number of pools). Every pool decoded from a message or an event
 * brings its own copies; kept, they would cost the index more than its numbers do. Lists are
 * frozen, since offers share them.
 */
export class SharedValues {
  private readonly strings = new Map<string, string>();
  private readonly lists = new Map<string, Accelerators>();

  string(value: string): string {
    const held = this.strings.get(value);
    if (held !== undefined) return held;
    this.strings.set(value, value);
    return value;
  }

  /** The accelerators in lower case, as one list shared by every pool that has the same. */
  accelerators(accelerators: PoolData['accelerators']): Accelerators {
    if (accelerators.length === 0) return NO_ACCELERATORS;
    let key = '';
    for (const a of accelerators) key += `${a.kind}${a.domestic ? '+' : '-'}${a.model}\n`;
    let list = this.lists.get(key);
    if (!list) {
      list = Object.freeze(
        accelerators.map((a) =>
          Object.freeze({
            model: this.string(a.model.toLowerCase()),
            kind: a.kind,
            domestic: a.domestic,
          }),
        ),
      );
      this.lists.set(key, list);
    }
    return list;
  }
}

const NO_ACCELERATORS: Accelerators = Object.freeze([]);

/** The offer of a pool's state; `shared` keeps one copy of the values pools repeat. */
export function offerOf(pool: PoolData, shared: SharedValues = new SharedValues()): Offer {
  const inventory = pool.inventory;
  const held = pool.held;
  // Absent from older producers' events: no cap, not quarantined.
  const cap = pool.securityLevelCap ?? null;
  const quarantined = pool.quarantined === true;
  return {
    poolId: pool.poolId,
    version: pool.version,
    providerParticipantId: shared.string(pool.providerParticipantId),
    poolClass: pool.poolClass,
    regionCode: shared.string(pool.regionCode),
    site: shared.string(pool.site),
    accelerators: shared.accelerators(pool.accelerators),
    securityLevel: effectiveSecurityLevel(pool.securityLevel, cap),
    claimedSecurityLevel: pool.securityLevel,
    securityLevelCap: cap,
    quarantined,
    renewableRatio: pool.renewableRatio,
    pue: pool.pue,
    gflopsPerWatt: pool.gflopsPerWatt,
    price: pool.price,
    selectable: pool.state === 'online' && inventory !== null && !quarantined,
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

/** The level selection credits a pool with: the claimed one, or the cap when that is lower. */
export function effectiveSecurityLevel(claimed: number, cap: number | null): number {
  return cap !== null && cap < claimed ? cap : claimed;
}
