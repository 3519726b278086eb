import type { LineData, PoolData } from '@cinode/contracts';

export const MODELS = [
  { model: 'H800', kind: 'GPU', domestic: false },
  { model: 'A800', kind: 'GPU', domestic: false },
  { model: 'L40S', kind: 'GPU', domestic: false },
  { model: 'MTT S4000', kind: 'GPU', domestic: true },
  { model: 'Ascend 910B', kind: 'NPU', domestic: true },
  { model: 'Ascend 310P', kind: 'NPU', domestic: true },
  { model: 'MLU370', kind: 'NPU', domestic: true },
  { model: 'BR104', kind: 'GPU', domestic: true },
] as const;

export const REGIONS = [
  '310000',
  '310115',
  '110000',
  '440300',
  '330100',
  '510100',
  '620100',
  '150100',
];

/** A pool as its events carry it, with random attributes and capacity. */
export function randomPool(random: () => number, index: number): PoolData {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (max: number) => Math.floor(random() * (max + 1));
  const accelerators =
    random() < 0.15 ? [] : [pick(MODELS)].concat(random() < 0.2 ? [pick(MODELS)] : []);
  const unique = [...new Map(accelerators.map((a) => [a.model, a])).values()];
  const gpuTotal = int(64);
  const npuTotal = int(64);
  const cpuTotal = 64 + int(4096);
  return {
    poolId: `CN.R0001.RP.${String(index).padStart(8, '0')}X`,
    version: 1,
    providerParticipantId: `provider-${int(50)}`,
    name: `pool ${index}`,
    poolClass: random() < 0.5 ? 'A' : 'B',
    site: `site-${int(200)}`,
    regionCode: pick(REGIONS),
    accelerators: unique.map((a) => ({ ...a })),
    securityLevel: 1 + int(3),
    datacenterTier: 1 + int(3),
    pue: 1.1 + random() * 0.8,
    renewableRatio: random(),
    gflopsPerWatt: 5 + random() * 80,
    price: {
      cpuCoreHourFen: 5 + int(30),
      gpuCardHourFen: 500 + int(3000),
      npuCardHourFen: 400 + int(2500),
      memoryGibHourFen: 1 + int(4),
      storageGibHourFen: int(2),
    },
    state: random() < 0.9 ? 'online' : random() < 0.5 ? 'stale' : 'offline',
    inventory: {
      cpuServers: 1 + int(100),
      cpuCoresTotal: cpuTotal,
      cpuCoresFree: int(cpuTotal),
      gpuServers: int(16),
      gpuCardsTotal: gpuTotal,
      gpuCardsFree: int(gpuTotal),
      npuServers: int(16),
      npuCardsTotal: npuTotal,
      npuCardsFree: int(npuTotal),
      fp16TflopsTotal: 10_000,
      fp16TflopsFree: random() * 10_000,
      fp32TflopsTotal: 1_000,
      fp32TflopsFree: random() * 1_000,
      memoryGibTotal: 65_536,
      memoryGibFree: int(65_536),
      storageGibTotal: 1_000_000,
      storageGibFree: int(1_000_000),
      uplinkMbpsTotal: 100_000,
      uplinkMbpsFree: int(100_000),
      uplinkTrafficGbFree: int(10_000),
      downlinkMbpsTotal: 100_000,
      downlinkMbpsFree: int(100_000),
      downlinkTrafficGbFree: int(10_000),
    },
    inventorySequence: 1,
    held: {
      cpuCores: int(8),
      gpuCards: int(2),
      npuCards: int(2),
      memoryGib: int(64),
      storageGib: 0,
    },
    lastReportedAt: null,
    // Some pools under the security service's restrictions, chosen by index so that the random
    // attributes above (and every fixture built from them) stay as they were.
    securityLevelCap: index % 11 === 0 ? 1 + (index % 3) : null,
    quarantined: index % 37 === 5,
  };
}

/** A dedicated line between random sites of the fixture regions (the sites pools use). */
export function randomLine(random: () => number, index: number): LineData {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (max: number) => Math.floor(random() * (max + 1));
  const a = pick(REGIONS);
  const b = random() < 0.1 ? a : pick(REGIONS);
  const total = 1_000 + int(99_000);
  return {
    lineId: `CN.R0001.LN.${String(index).padStart(8, '0')}X`,
    version: 1,
    providerParticipantId: `line-provider-${int(5)}`,
    name: `line ${index}`,
    endpointA: { regionCode: a, site: `site-${int(200)}` },
    endpointB: { regionCode: b, site: `site-${int(200)}` },
    bandwidthMbpsTotal: total,
    bandwidthMbpsFree: int(total),
    // Every fifth line has a quarter of its total held by orders.
    bandwidthMbpsReserved: index % 5 === 0 ? Math.floor(total / 4) : 0,
    latencyMs: 1 + int(40),
    priceFenPerHour: random() < 0.3 ? 0 : int(5_000),
    availability: 0.999,
    state: random() < 0.85 ? 'active' : random() < 0.5 ? 'pending_filing' : 'out_of_service',
  };
}
