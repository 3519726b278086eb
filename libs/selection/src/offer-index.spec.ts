import { checkSelectRequest } from './demand';
import { LatencyModel } from './latency';
import { randomDemand } from './random-demands';
import { OfferIndex, selectByScan } from './offer-index';
import { seededRandom } from '@cinode/common';
import { REGIONS, randomLine, randomPool } from './fixtures';
import { LineTable } from './line-table';
import type { PoolData } from '@cinode/contracts';

const latency = new LatencyModel({
  sameRegionMs: 2,
  sameProvinceMs: 5,
  defaultMs: 35,
  provincePairs: new Map([
    ['31-11', 28],
    ['11-31', 28],
  ]),
});

describe(OfferIndex.name, () => {
  it('selects exactly what a full scan selects, eliminations included, for many random demands', () => {
    const random = seededRandom(20261201);
    const index = new OfferIndex();
    for (let i = 0; i < 3_000; i += 1) index.apply(randomPool(random, i));
    for (let i = 0; i < 300; i += 1) {
      const raw = randomDemand(random);
      if (i % 3 === 0) raw.maxLatencyMs = 1 + Math.floor(random() * 40);
      if (raw.maxLatencyMs > 0 && raw.userRegionCode === '') raw.userRegionCode = '310000';
      const { demand, weights, topK } = checkSelectRequest(raw, undefined, 10);
      const fromIndex = index.select(demand, weights, topK, latency);
      const fromScan = selectByScan(index.all(), demand, weights, topK, latency);
      expect(fromIndex.matched).toBe(fromScan.matched);
      expect(Object.fromEntries(fromIndex.eliminations)).toEqual(
        Object.fromEntries(fromScan.eliminations),
      );
      expect(fromIndex.candidates.map((c) => [c.offer.poolId, c.score])).toEqual(
        fromScan.candidates.map((c) => [c.offer.poolId, c.score]),
      );
    }
  });

  it('agrees with a full scan when dedicated lines reach some sites, eliminations included', () => {
    const random = seededRandom(20260815);
    const index = new OfferIndex();
    const lines = new LineTable();
    for (let i = 0; i < 3_000; i += 1) index.apply(randomPool(random, i));
    for (let i = 0; i < 400; i += 1) lines.apply(randomLine(random, i));
    let linePaths = 0;
    for (let i = 0; i < 300; i += 1) {
      const raw = randomDemand(random);
      raw.userRegionCode = REGIONS[i % REGIONS.length];
      raw.maxLatencyMs = 1 + Math.floor(random() * 40);
      if (i % 2 === 0) raw.userSite = `site-${Math.floor(random() * 200)}`;
      const { demand, weights, topK } = checkSelectRequest(raw, undefined, 10);
      const fromIndex = index.select(demand, weights, topK, latency, lines);
      const fromScan = selectByScan(index.all(), demand, weights, topK, latency, lines);
      expect(fromIndex.matched).toBe(fromScan.matched);
      expect(Object.fromEntries(fromIndex.eliminations)).toEqual(
        Object.fromEntries(fromScan.eliminations),
      );
      const answer = (c: (typeof fromIndex.candidates)[number]) => [
        c.offer.poolId,
        c.score,
        c.path,
        c.line?.lineId,
      ];
      expect(fromIndex.candidates.map(answer)).toEqual(fromScan.candidates.map(answer));
      linePaths += fromIndex.candidates.filter((c) => c.path === 'line').length;
    }
    // The demands above do reach pools through lines, so the comparison covers line paths.
    expect(linePaths).toBeGreaterThan(20);
  });

  it('agrees with a full scan after pools change class, model, region, level and capacity', () => {
    const random = seededRandom(31337);
    const index = new OfferIndex();
    const versions = new Map<number, number>();
    for (let i = 0; i < 2_000; i += 1) {
      index.apply(randomPool(random, i));
      versions.set(i, 1);
    }
    // New versions of random pools (each a fresh random pool under the same id), some several
    // times, some leaving selection and coming back: cells lose rows from their middle and grow.
    for (let i = 0; i < 6_000; i += 1) {
      const id = Math.floor(random() * 2_000);
      const version = (versions.get(id) ?? 1) + 1;
      versions.set(id, version);
      expect(index.apply({ ...randomPool(random, id), version })).toBe(true);
    }
    for (let i = 0; i < 200; i += 1) {
      const raw = randomDemand(random);
      if (i % 2 === 0) raw.maxLatencyMs = 1 + Math.floor(random() * 40);
      if (raw.maxLatencyMs > 0 && raw.userRegionCode === '') raw.userRegionCode = '310000';
      const { demand, weights, topK } = checkSelectRequest(raw, undefined, 10);
      const fromIndex = index.select(demand, weights, topK, latency);
      const fromScan = selectByScan(index.all(), demand, weights, topK, latency);
      expect(fromIndex.matched).toBe(fromScan.matched);
      expect(Object.fromEntries(fromIndex.eliminations)).toEqual(
        Object.fromEntries(fromScan.eliminations),
      );
      expect(fromIndex.candidates).toEqual(fromScan.candidates);
    }
  });

  it('keeps only the newest version of a pool, and drops a pool that left selection', () => {
    const random = seededRandom(7);
    const index = new OfferIndex();
    const pool = { ...randomPool(random, 1), state: 'online' as const, version: 3 };
    expect(index.apply(pool)).toBe(true);
    expect(index.apply({ ...pool, version: 2, state: 'offline' })).toBe(false);
    expect(index.selectable).toBe(1);
    expect(index.apply({ ...pool, version: 4, state: 'stale' })).toBe(true);
    expect(index.selectable).toBe(0);
    expect(index.size).toBe(1);
  });

  it('credits a pool with its capped level and leaves quarantined pools out, as a scan does', () => {
    const random = seededRandom(23);
    const base = randomPool(random, 1);
    const pool = (id: number, extra: Partial<PoolData>): PoolData => ({
      ...base,
      poolId: `CN.R0001.RP.${String(id).padStart(8, '0')}X`,
      poolClass: 'A',
      regionCode: '310115',
      state: 'online',
      accelerators: [],
      securityLevel: 3,
      securityLevelCap: null,
      quarantined: false,
      ...extra,
    });
    const index = new OfferIndex();
    index.apply(pool(1, {}));
    index.apply(pool(2, { securityLevelCap: 1 }));
    index.apply(pool(3, { quarantined: true }));
    index.apply(pool(4, { quarantined: true, state: 'offline' }));
    index.apply(pool(5, { securityLevelCap: 4 }));
    // An older producer's event: neither member.
    const { securityLevelCap: _cap, quarantined: _quarantined, ...older } = pool(6, {});
    index.apply(older);
    const minimal = {
      ...randomDemand(random),
      poolClass: 1,
      acceleratorModel: '',
      acceleratorCount: 0,
      cpuCores: 0,
      memoryGib: 0,
      storageGib: 0,
      fp16Tflops: 0,
      fp32Tflops: 0,
      allowedRegions: [],
      minBandwidthMbps: 0,
      maxPriceFenPerHour: 0,
      minRenewableRatio: 0,
      domesticOnly: false,
      userRegionCode: '',
    };
    const select = (minSecurityLevel: number) => {
      const { demand, weights, topK } = checkSelectRequest(
        { ...minimal, minSecurityLevel },
        { price: 0, latency: 0, computeEfficiency: 0, carbonEfficiency: 0, security: 1 },
        10,
      );
      const fromIndex = index.select(demand, weights, topK, latency);
      const fromScan = selectByScan(index.all(), demand, weights, topK, latency);
      expect(fromIndex.candidates).toEqual(fromScan.candidates);
      expect(fromIndex.eliminations).toEqual(fromScan.eliminations);
      return fromIndex;
    };
    const needsTwo = select(2);
    expect(needsTwo.candidates.map((c) => c.offer.poolId.slice(12, 20))).toEqual([
      '00000001',
      '00000005',
      '00000006',
    ]);
    // Claims 3, capped at 1: short of the minimum of 2.
    expect(needsTwo.eliminations.get('min_security_level')).toBe(1);
    // Quarantined pools leave selection, offline or not, and count as quarantined only.
    expect(needsTwo.eliminations.get('quarantined')).toBe(2);
    expect(needsTwo.eliminations.has('state')).toBe(false);
    expect(index.quarantined).toBe(2);
    expect(index.selectable).toBe(4);
    // The security criterion reads the effective level too; a cap above the claim changes nothing.
    const any = select(0);
    expect(
      Object.fromEntries(
        any.candidates.map((c) => [c.offer.poolId.slice(12, 20), c.breakdown.security]),
      ),
    ).toEqual({ '00000001': 2 / 3, '00000002': 0, '00000005': 2 / 3, '00000006': 2 / 3 });
    // The cap lifted and the quarantine ended: back in selection at the claimed level.
    index.apply(pool(2, { version: 2 }));
    index.apply(pool(3, { version: 2 }));
    expect(select(2).matched).toBe(5);
    expect(index.quarantined).toBe(1);
  });

  it('ranks by the weights and breaks ties by pool id', () => {
    const random = seededRandom(11);
    const base = randomPool(random, 1);
    const twin = (id: number, price: number) => ({
      ...base,
      poolId: `CN.R0001.RP.${String(id).padStart(8, '0')}X`,
      state: 'online' as const,
      accelerators: [{ model: 'H800', kind: 'GPU' as const, domestic: false }],
      price: { ...base.price, gpuCardHourFen: price },
      inventory: { ...base.inventory!, gpuCardsFree: 64 },
      held: { cpuCores: 0, gpuCards: 0, npuCards: 0, memoryGib: 0, storageGib: 0 },
    });
    const index = new OfferIndex();
    index.apply(twin(3, 1_000));
    index.apply(twin(2, 1_000));
    index.apply(twin(1, 2_000));
    const { demand, weights, topK } = checkSelectRequest(
      {
        ...randomDemand(random),
        poolClass: base.poolClass === 'A' ? 1 : 2,
        acceleratorModel: 'h800',
        acceleratorCount: 1,
        cpuCores: 0,
        memoryGib: 0,
        storageGib: 0,
        fp16Tflops: 0,
        fp32Tflops: 0,
        allowedRegions: [],
        minBandwidthMbps: 0,
        maxPriceFenPerHour: 0,
        minSecurityLevel: 0,
        minRenewableRatio: 0,
        domesticOnly: false,
        userRegionCode: '',
      },
      { price: 1, latency: 0, computeEfficiency: 0, carbonEfficiency: 0, security: 0 },
      3,
    );
    const result = index.select(demand, weights, topK, latency);
    expect(result.candidates.map((c) => [c.offer.poolId.slice(12, 20), c.breakdown.price])).toEqual(
      [
        ['00000002', 1],
        ['00000003', 1],
        ['00000001', 0],
      ],
    );
  });
});

describe('rank', () => {
  it('keeps the same best candidates as ranking every match and cutting', () => {
    const random = seededRandom(99);
    const index = new OfferIndex();
    for (let i = 0; i < 2_000; i += 1) index.apply(randomPool(random, i));
    for (let i = 0; i < 50; i += 1) {
      const raw = { ...randomDemand(random), acceleratorModel: '', acceleratorCount: 0 };
      const { demand, weights } = checkSelectRequest(raw, undefined, 10);
      const all = index.select(demand, weights, 100_000, latency);
      const best = index.select(demand, weights, 7, latency);
      expect(best.candidates.map((c) => c.offer.poolId)).toEqual(
        all.candidates.slice(0, 7).map((c) => c.offer.poolId),
      );
      for (let k = 1; k < all.candidates.length; k += 1) {
        const [a, b] = [all.candidates[k - 1], all.candidates[k]];
        expect(a.score > b.score || (a.score === b.score && a.offer.poolId < b.offer.poolId)).toBe(
          true,
        );
      }
    }
  });
});
