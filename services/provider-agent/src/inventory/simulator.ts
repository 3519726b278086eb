import type { InventoryData } from '@cinode/contracts';
import { seededRandom } from '@cinode/common';
import {
  AcceleratorKind,
  PoolClass,
  type Accelerator,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { InventorySource, PoolDefinition } from './inventory-source';

/** Regions with real data-centre clusters of the national hub scheme (GB/T 2260 codes). */
const REGIONS: ReadonlyArray<{ code: string; city: string }> = [
  { code: '310115', city: 'Shanghai Pudong' },
  { code: '110108', city: 'Beijing Haidian' },
  { code: '440305', city: 'Shenzhen Nanshan' },
  { code: '330110', city: 'Hangzhou Yuhang' },
  { code: '510116', city: 'Chengdu Shuangliu' },
  { code: '520100', city: 'Guiyang Gui-an' },
  { code: '150100', city: 'Hohhot Helingeer' },
  { code: '640500', city: 'Zhongwei' },
  { code: '620700', city: 'Zhangye' },
];

/** Accelerator models with FP16 / FP32 TFLOPS per card and a price per card-hour in fen. */
const MODELS: ReadonlyArray<{
  accelerator: Accelerator;
  fp16: number;
  fp32: number;
  priceFen: number;
}> = [
  { accelerator: gpu('H800', false), fp16: 989, fp32: 67, priceFen: 1_800 },
  { accelerator: gpu('A800', false), fp16: 312, fp32: 19.5, priceFen: 1_000 },
  { accelerator: gpu('L40S', false), fp16: 362, fp32: 91.6, priceFen: 700 },
  { accelerator: npu('Ascend 910B', true), fp16: 320, fp32: 80, priceFen: 1_200 },
  { accelerator: npu('Ascend 910C', true), fp16: 780, fp32: 150, priceFen: 1_900 },
  { accelerator: npu('MLU370-X8', true), fp16: 96, fp32: 24, priceFen: 450 },
  { accelerator: gpu('DCU K100', true), fp16: 196, fp32: 49, priceFen: 650 },
];

function gpu(model: string, domestic: boolean): Accelerator {
  return { kind: AcceleratorKind.ACCELERATOR_KIND_GPU, model, domestic };
}

function npu(model: string, domestic: boolean): Accelerator {
  return { kind: AcceleratorKind.ACCELERATOR_KIND_NPU, model, domestic };
}

/** The capacity of a simulated pool when nothing of it is used. */
type Totals = Omit<
  InventoryData,
  | 'cpuCoresFree'
  | 'gpuCardsFree'
  | 'npuCardsFree'
  | 'fp16TflopsFree'
  | 'fp32TflopsFree'
  | 'memoryGibFree'
  | 'storageGibFree'
  | 'uplinkMbpsFree'
  | 'uplinkTrafficGbFree'
  | 'downlinkMbpsFree'
  | 'downlinkTrafficGbFree'
>;

interface SimulatedPool {
  definition: PoolDefinition;
  totals: Totals;
  /** Share of the pool in use, drifting in [MIN_LOAD, MAX_LOAD]. */
  load: number;
  random: () => number;
}

const MIN_LOAD = 0.05;
const MAX_LOAD = 0.9;
/** Largest change of a pool's load per observation. */
const DRIFT = 0.06;

/**
 * N resource pools described deterministically by a seed (the same seed, the same pools: their
 * keys, and so their registrations, survive restarts), whose load drifts at every observation.
 * Free capacity is the unused share of each total, so free ≤ total always.
 */
export class SimulatedInventory implements InventorySource {
  /** The simulated load is the site's other users: the node's tasks are not in it. */
  readonly seesTasks = false;
  private readonly simulated: SimulatedPool[];

  constructor(count: number, seed: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error('simulate at least one pool');
    this.simulated = Array.from({ length: count }, (_, i) => simulatedPool(seed, i));
  }

  pools(): readonly PoolDefinition[] {
    return this.simulated.map((p) => p.definition);
  }

  async observe(): Promise<ReadonlyMap<string, InventoryData>> {
    const out = new Map<string, InventoryData>();
    for (const pool of this.simulated) {
      pool.load = Math.min(
        MAX_LOAD,
        Math.max(MIN_LOAD, pool.load + (pool.random() - 0.5) * 2 * DRIFT),
      );
      out.set(pool.definition.key, inventoryAt(pool.totals, pool.load));
    }
    return out;
  }
}

function simulatedPool(seed: number, index: number): SimulatedPool {
  // One generator per pool, so a pool's description does not depend on how many others there are.
  const random = seededRandom((seed * 1_000_003 + index * 7_919) >>> 0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const between = (min: number, max: number) => min + random() * (max - min);
  const region = pick(REGIONS);
  const model = pick(MODELS);
  const bareMetal = random() < 0.5;
  const cpuServers = 4 + Math.floor(random() * 60);
  const acceleratorServers = 2 + Math.floor(random() * 30);
  const cards = acceleratorServers * 8;
  const isNpu = model.accelerator.kind === AcceleratorKind.ACCELERATOR_KIND_NPU;
  const cores = (cpuServers + acceleratorServers) * 64;
  const uplink = pick([10_000, 40_000, 100_000]);
  const totals: Totals = {
    cpuServers,
    cpuCoresTotal: cores,
    gpuServers: isNpu ? 0 : acceleratorServers,
    gpuCardsTotal: isNpu ? 0 : cards,
    npuServers: isNpu ? acceleratorServers : 0,
    npuCardsTotal: isNpu ? cards : 0,
    fp16TflopsTotal: round(cards * model.fp16),
    fp32TflopsTotal: round(cards * model.fp32 + cores * 0.05),
    memoryGibTotal: (cpuServers + acceleratorServers) * 512,
    storageGibTotal: (cpuServers + acceleratorServers) * 30_720,
    uplinkMbpsTotal: uplink,
    downlinkMbpsTotal: uplink,
  };
  const number = String(index + 1).padStart(2, '0');
  const definition: PoolDefinition = {
    key: `sim-${seed}-${index}`,
    spec: {
      name: `Simulated pool ${number}: ${region.city} ${model.accelerator.model}`,
      poolClass: bareMetal ? PoolClass.POOL_CLASS_BARE_METAL : PoolClass.POOL_CLASS_VIRTUAL_MACHINE,
      site: `sim-${region.code}-${number}`,
      regionCode: region.code,
      accelerators: [{ ...model.accelerator }],
      securityLevel: pick([2, 3, 3, 4]),
      datacenterTier: pick([3, 3, 4]),
      pue: round(between(1.1, 1.5), 2),
      renewableRatio: round(between(0, 0.8), 2),
      gflopsPerWatt: round(between(15, 65), 1),
      price: {
        cpuCoreHourFen: Math.round(between(8, 20)),
        gpuCardHourFen: isNpu ? 0 : Math.round(model.priceFen * between(0.85, 1.15)),
        npuCardHourFen: isNpu ? Math.round(model.priceFen * between(0.85, 1.15)) : 0,
        memoryGibHourFen: Math.round(between(1, 3)),
        storageGibHourFen: 1,
      },
    },
  };
  return { definition, totals, load: between(0.2, 0.7), random };
}

/** The capacity of a pool with `load` of it in use: whole units for counts, free ≤ total. */
export function inventoryAt(totals: Totals, load: number): InventoryData {
  const free = (total: number) => Math.floor(total * (1 - load));
  const share = (total: number) => round(total * (1 - load));
  const uplinkFree = free(totals.uplinkMbpsTotal);
  const downlinkFree = free(totals.downlinkMbpsTotal);
  return {
    ...totals,
    cpuCoresFree: free(totals.cpuCoresTotal),
    gpuCardsFree: free(totals.gpuCardsTotal),
    npuCardsFree: free(totals.npuCardsTotal),
    fp16TflopsFree: Math.min(totals.fp16TflopsTotal, share(totals.fp16TflopsTotal)),
    fp32TflopsFree: Math.min(totals.fp32TflopsTotal, share(totals.fp32TflopsTotal)),
    memoryGibFree: free(totals.memoryGibTotal),
    storageGibFree: free(totals.storageGibTotal),
    uplinkMbpsFree: uplinkFree,
    uplinkTrafficGbFree: uplinkFree * 10,
    downlinkMbpsFree: downlinkFree,
    downlinkTrafficGbFree: downlinkFree * 10,
  };
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
