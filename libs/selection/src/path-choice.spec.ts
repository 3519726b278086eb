import type { LineData, PoolData } from '@cinode/contracts';
import { ValidationError, seededRandom } from '@cinode/common';
import { PoolClass } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { Demand } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { checkSelectRequest } from './demand';
import { randomPool } from './fixtures';
import { LatencyModel } from './latency';
import { LineTable } from './line-table';
import { OfferIndex } from './offer-index';

// Shanghai to Beijing is 28 ms on the public network; within Shanghai 5, in one region 2.
const latency = new LatencyModel({
  sameRegionMs: 2,
  sameProvinceMs: 5,
  defaultMs: 35,
  provincePairs: new Map([
    ['31-11', 28],
    ['11-31', 28],
  ]),
});

/** A Beijing pool at site bj-1 with plenty of everything, 40 Gbit/s downlink free. */
function pool(overrides: Partial<PoolData> = {}): PoolData {
  const base = randomPool(seededRandom(5), 1);
  return {
    ...base,
    poolId: 'CN.R0001.RP.00000001X',
    poolClass: 'A',
    state: 'online',
    regionCode: '110000',
    site: 'bj-1',
    securityLevel: 3,
    accelerators: [{ kind: 'GPU', model: 'H800', domestic: false }],
    price: {
      cpuCoreHourFen: 10,
      gpuCardHourFen: 1_000,
      npuCardHourFen: 1_000,
      memoryGibHourFen: 1,
      storageGibHourFen: 0,
    },
    inventory: { ...base.inventory!, gpuCardsFree: 8, downlinkMbpsFree: 40_000 },
    held: { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
    ...overrides,
  };
}

/** An active line from Shanghai (site sh-1) to the Beijing pool's site. */
function line(id: number, overrides: Partial<LineData> = {}): LineData {
  return {
    lineId: `CN.R0001.LN.${String(id).padStart(8, '0')}X`,
    version: 1,
    providerParticipantId: 'line-provider-1',
    name: `line ${id}`,
    endpointA: { regionCode: '310000', site: 'sh-1' },
    endpointB: { regionCode: '110000', site: 'bj-1' },
    bandwidthMbpsTotal: 10_000,
    bandwidthMbpsFree: 10_000,
    bandwidthMbpsReserved: 0,
    latencyMs: 12,
    priceFenPerHour: 300,
    availability: 0.9995,
    state: 'active',
    ...overrides,
  };
}

/** One H800 card and 4 cores (1,040 fen an hour at the pool's prices) for a user in Shanghai. */
function demand(overrides: Partial<Demand> = {}) {
  return checkSelectRequest(
    {
      poolClass: PoolClass.POOL_CLASS_BARE_METAL,
      acceleratorModel: 'H800',
      acceleratorCount: 1,
      fp16Tflops: 0,
      fp32Tflops: 0,
      cpuCores: 4,
      memoryGib: 0,
      storageGib: 0,
      durationHours: 10,
      allowedRegions: [],
      userRegionCode: '310000',
      userSite: '',
      maxLatencyMs: 20,
      minBandwidthMbps: 0,
      maxPriceFenPerHour: 0,
      minSecurityLevel: 0,
      minRenewableRatio: 0,
      domesticOnly: false,
      ...overrides,
    },
    undefined,
    10,
  );
}

function select(
  pools: PoolData[],
  lines: LineData[],
  overrides: Partial<Demand> = {},
): ReturnType<OfferIndex['select']> {
  const index = new OfferIndex();
  for (const p of pools) index.apply(p);
  const table = new LineTable();
  for (const l of lines) table.apply(l);
  const { demand: spec, weights, topK } = demand(overrides);
  return index.select(spec, weights, topK, latency, table);
}

describe('path choice', () => {
  it('reaches a pool beyond the latency limit through a line, with its bandwidth and price', () => {
    const result = select([pool()], [line(1, { bandwidthMbpsFree: 6_000 })]);
    expect(result.matched).toBe(1);
    const [candidate] = result.candidates;
    expect(candidate.path).toBe('line');
    expect(candidate.line?.lineId).toBe('CN.R0001.LN.00000001X');
    expect(candidate.latencyMs).toBe(12);
    // The lower of the line's free bandwidth and the pool's free downlink.
    expect(candidate.bandwidthMbps).toBe(6_000);
    expect(candidate.priceFenPerHour).toBe(1_040 + 300);
  });

  it('takes the pool downlink as the bandwidth when it is below the line', () => {
    const slowPool = pool({ inventory: { ...pool().inventory!, downlinkMbpsFree: 2_000 } });
    const [candidate] = select([slowPool], [line(1)]).candidates;
    expect(candidate.bandwidthMbps).toBe(2_000);
  });

  it('serves both directions: a line listed from Beijing to Shanghai reaches the same pool', () => {
    const reversed = line(1, {
      endpointA: { regionCode: '110000', site: 'bj-1' },
      endpointB: { regionCode: '310000', site: 'sh-1' },
    });
    expect(select([pool()], [reversed]).candidates[0]?.path).toBe('line');
  });

  it('eliminates the pool under max_latency_ms without a line, and uses the public network when it is fast enough', () => {
    const none = select([pool()], []);
    expect(none.matched).toBe(0);
    expect(Object.fromEntries(none.eliminations)).toEqual({ max_latency_ms: 1 });
    const [candidate] = select([pool()], [], { maxLatencyMs: 30 }).candidates;
    expect(candidate.path).toBe('default');
    expect(candidate.latencyMs).toBe(28);
    expect(candidate.priceFenPerHour).toBe(1_040);
  });

  it('keeps the public network when it meets the latency limit: a line cannot reroute (and reprice) such pools', () => {
    const lines = [line(1, { latencyMs: 0, priceFenPerHour: 1_000_000_000 })];
    const [reached] = select([pool()], lines, { maxLatencyMs: 40 }).candidates;
    expect(reached.path).toBe('default');
    const [unlimited] = select([pool()], lines, { maxLatencyMs: 0 }).candidates;
    expect(unlimited.path).toBe('default');
  });

  it('passes over a line with no bandwidth free, whatever the minimum asked', () => {
    const lines = [line(1, { latencyMs: 8, bandwidthMbpsFree: 0 }), line(2, { latencyMs: 12 })];
    expect(select([pool()], lines, { minBandwidthMbps: 0 }).candidates[0]?.line?.lineId).toBe(
      'CN.R0001.LN.00000002X',
    );
  });

  it("offers a line's free bandwidth less what orders reserve on it, never below 0", () => {
    const held = line(1, { latencyMs: 8, bandwidthMbpsFree: 6_000, bandwidthMbpsReserved: 5_500 });
    const [candidate] = select([pool()], [held, line(2, { latencyMs: 12 })], {
      minBandwidthMbps: 0,
    }).candidates;
    expect(candidate.line?.lineId).toBe('CN.R0001.LN.00000001X');
    expect(candidate.bandwidthMbps).toBe(500);
    // 600 Mbit/s asked: line 1 has 500 left, so line 2 is taken.
    expect(
      select([pool()], [held, line(2, { latencyMs: 12 })], { minBandwidthMbps: 600 }).candidates[0]
        ?.line?.lineId,
    ).toBe('CN.R0001.LN.00000002X');
    // Reserved beyond what the provider now states free (it lowered the figure): nothing left.
    const over = line(1, { bandwidthMbpsFree: 1_000, bandwidthMbpsReserved: 4_000 });
    expect(select([pool()], [over], { minBandwidthMbps: 0 }).matched).toBe(0);
  });

  it('chooses the line of lowest latency, then lowest price, then lowest id', () => {
    const lines = [
      line(5, { latencyMs: 15, priceFenPerHour: 0 }),
      line(4, { latencyMs: 10, priceFenPerHour: 500 }),
      line(3, { latencyMs: 10, priceFenPerHour: 200 }),
      line(2, { latencyMs: 10, priceFenPerHour: 200 }),
    ];
    expect(select([pool()], lines).candidates[0]?.line?.lineId).toBe('CN.R0001.LN.00000002X');
    expect(select([pool()], lines.slice(0, 2)).candidates[0]?.line?.lineId).toBe(
      'CN.R0001.LN.00000004X',
    );
  });

  it('passes over a line without the bandwidth asked for, or too dear for the price limit', () => {
    const lines = [
      line(1, { latencyMs: 8, bandwidthMbpsFree: 500 }),
      line(2, { latencyMs: 9, priceFenPerHour: 5_000 }),
      line(3, { latencyMs: 14, priceFenPerHour: 100 }),
    ];
    const [candidate] = select([pool()], lines, {
      minBandwidthMbps: 1_000,
      maxPriceFenPerHour: 2_000,
    }).candidates;
    expect(candidate.line?.lineId).toBe('CN.R0001.LN.00000003X');
    // No line fits: the public network is too slow, so the pool counts under the latency.
    const starved = select([pool()], lines.slice(0, 2), {
      minBandwidthMbps: 1_000,
      maxPriceFenPerHour: 2_000,
    });
    expect(Object.fromEntries(starved.eliminations)).toEqual({ max_latency_ms: 1 });
  });

  it('falls back to the public network when the line would break the price limit', () => {
    const [candidate] = select([pool()], [line(1, { priceFenPerHour: 5_000 })], {
      maxLatencyMs: 30,
      maxPriceFenPerHour: 2_000,
    }).candidates;
    expect(candidate.path).toBe('default');
    expect(candidate.priceFenPerHour).toBe(1_040);
  });

  it('uses only lines ending at the user site when the demand names one', () => {
    const lines = [line(1, { endpointA: { regionCode: '310000', site: 'sh-2' } })];
    expect(select([pool()], lines).candidates[0]?.path).toBe('line');
    expect(select([pool()], lines, { userSite: 'sh-2' }).candidates[0]?.path).toBe('line');
    expect(select([pool()], lines, { userSite: 'sh-1' }).matched).toBe(0);
  });

  it('uses a line only to the pool site it ends at', () => {
    const elsewhere = pool({ poolId: 'CN.R0001.RP.00000002X', site: 'bj-2' });
    const result = select([pool(), elsewhere], [line(1)]);
    expect(result.candidates.map((c) => [c.offer.poolId, c.path])).toEqual([
      ['CN.R0001.RP.00000001X', 'line'],
    ]);
    expect(Object.fromEntries(result.eliminations)).toEqual({ max_latency_ms: 1 });
  });

  it('reaches a pool in the user region locally, whatever lines there are', () => {
    const local = pool({ regionCode: '310000', site: 'sh-9' });
    const lines = [line(1, { endpointB: { regionCode: '310000', site: 'sh-9' }, latencyMs: 1 })];
    const [candidate] = select([local], lines).candidates;
    expect(candidate.path).toBe('local');
    expect(candidate.latencyMs).toBe(2);
  });

  it('ignores lines not filed or out of service, and applies only newer versions of a line', () => {
    expect(select([pool()], [line(1, { state: 'pending_filing' })]).matched).toBe(0);
    expect(select([pool()], [line(1, { state: 'out_of_service' })]).matched).toBe(0);
    const table = new LineTable();
    expect(table.apply(line(1, { version: 2 }))).toBe(true);
    expect(table.apply(line(1, { version: 1, state: 'suspended' }))).toBe(false);
    expect(table.usable).toBe(1);
    expect(table.apply(line(1, { version: 3, state: 'suspended' }))).toBe(true);
    expect([table.size, table.usable]).toEqual([1, 0]);
    expect(table.reachFrom('310000', '').size).toBe(0);
  });

  it('refuses a malformed user site, and one without the user region', () => {
    const fieldsOf = (overrides: Partial<Demand>) => {
      try {
        demand(overrides);
        return [];
      } catch (error) {
        return (error as ValidationError).fieldViolations.map((v) => v.field);
      }
    };
    expect(fieldsOf({ userSite: 'sh lingang' })).toEqual(['demand.user_site']);
    expect(fieldsOf({ userSite: 'sh-1', userRegionCode: '', maxLatencyMs: 0 })).toEqual([
      'demand.user_region_code',
    ]);
    expect(fieldsOf({ userSite: 'sh-1' })).toEqual([]);
  });

  it('has no path without a user region, lines or not', () => {
    const [candidate] = select([pool()], [line(1)], {
      userRegionCode: '',
      maxLatencyMs: 0,
    }).candidates;
    expect(candidate.path).toBe('none');
    expect(candidate.line).toBeUndefined();
  });
});
