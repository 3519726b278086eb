import type { PoolData } from '@cinode/contracts';
import { liveStateOf } from './pool-states.consumer';

const NOW = new Date('2026-12-01T00:00:00Z');

function pool(overrides: Partial<PoolData> = {}): PoolData {
  return {
    poolId: 'cn.r0001.rp.00000042x',
    version: 7,
    providerParticipantId: 'p-1',
    name: 'Pool',
    poolClass: 'A',
    site: 'sh-1',
    regionCode: '310115',
    accelerators: [],
    securityLevel: 3,
    datacenterTier: 3,
    pue: 1.3,
    renewableRatio: 0.2,
    gflopsPerWatt: 40,
    price: {
      cpuCoreHourFen: 1,
      gpuCardHourFen: 1,
      npuCardHourFen: 1,
      memoryGibHourFen: 1,
      storageGibHourFen: 1,
    },
    state: 'online',
    inventory: {
      cpuServers: 1,
      cpuCoresTotal: 64,
      cpuCoresFree: 40,
      gpuServers: 1,
      gpuCardsTotal: 8,
      gpuCardsFree: 3,
      npuServers: 0,
      npuCardsTotal: 0,
      npuCardsFree: 0,
      fp16TflopsTotal: 100,
      fp16TflopsFree: 50,
      fp32TflopsTotal: 10,
      fp32TflopsFree: 5,
      memoryGibTotal: 512,
      memoryGibFree: 256,
      storageGibTotal: 1000,
      storageGibFree: 900,
      uplinkMbpsTotal: 1000,
      uplinkMbpsFree: 500,
      uplinkTrafficGbFree: 10,
      downlinkMbpsTotal: 1000,
      downlinkMbpsFree: 500,
      downlinkTrafficGbFree: 10,
    },
    inventorySequence: 4,
    held: { cpuCores: 8, gpuCards: 5, npuCards: 0, memoryGib: 64, storageGib: 0 },
    lastReportedAt: '2026-11-30T23:59:00.000Z',
    ...overrides,
  };
}

describe(liveStateOf.name, () => {
  it('shows free capacity less what orders hold, never below zero, under the canonical id', () => {
    expect(liveStateOf(pool(), NOW)).toEqual({
      identifier: 'CN.R0001.RP.00000042X',
      version: 7,
      state: 'ONLINE',
      reported: true,
      cpuCoresFree: 32,
      gpuCardsFree: 0,
      npuCardsFree: 0,
      fp16TflopsFree: 50,
      fp32TflopsFree: 5,
      memoryGibFree: 192,
      storageGibFree: 900,
      lastReportedAt: new Date('2026-11-30T23:59:00.000Z'),
      updatedAt: NOW,
    });
  });

  it('says so before the first report', () => {
    const state = liveStateOf(
      pool({ state: 'pending_filing', inventory: null, lastReportedAt: null }),
      NOW,
    );
    expect(state).toMatchObject({ state: 'PENDING_FILING', reported: false, gpuCardsFree: 0 });
    expect(state.lastReportedAt).toBeNull();
  });
});
