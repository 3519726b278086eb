import { seededRandom } from '@cinode/common';
import {
  PoolUpdated,
  PoolsReported,
  checkedPoolData,
  inventoryData,
  isPoolData,
  parseEvent,
  poolData,
  poolsOf,
  PoolChanges,
  checkReportedPools,
  poolJsonBound,
  type PoolData,
} from './index';

function validPool(random: () => number, index: number): PoolData {
  const int = (max: number) => Math.floor(random() * (max + 1));
  return {
    poolId: `CN.R0001.RP.${String(index).padStart(8, '0')}X`,
    version: 1 + int(1000),
    providerParticipantId: `provider-${int(50)}`,
    name: `pool ${index}`,
    poolClass: random() < 0.5 ? 'A' : 'B',
    site: `site-${int(200)}`,
    regionCode: '310115',
    accelerators:
      random() < 0.3
        ? []
        : [{ kind: random() < 0.5 ? 'GPU' : 'NPU', model: 'Ascend 910B', domestic: true }],
    securityLevel: 1 + int(3),
    datacenterTier: 1 + int(3),
    pue: 1 + random() * 2,
    renewableRatio: random(),
    gflopsPerWatt: 0.5 + random() * 999,
    price: {
      cpuCoreHourFen: int(30),
      gpuCardHourFen: int(3000),
      npuCardHourFen: int(2500),
      memoryGibHourFen: int(4),
      storageGibHourFen: int(2),
    },
    state: (['pending_filing', 'online', 'stale', 'offline', 'suspended'] as const)[int(4)],
    inventory:
      random() < 0.1
        ? null
        : {
            cpuServers: int(100),
            cpuCoresTotal: 4096,
            cpuCoresFree: int(4096),
            gpuServers: int(16),
            gpuCardsTotal: 64,
            gpuCardsFree: int(64),
            npuServers: int(16),
            npuCardsTotal: 64,
            npuCardsFree: int(64),
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
    inventorySequence: int(1_000_000),
    held: { cpuCores: int(8), gpuCards: int(2), npuCards: 0, memoryGib: int(64), storageGib: 0 },
    lastReportedAt:
      random() < 0.1 ? null : new Date(Date.UTC(2026, 0, 1) + int(1e11)).toISOString(),
    // The risk members, absent as older producers send them, or set (so mutations reach them).
    ...(random() < 0.2 ? {} : { securityLevelCap: random() < 0.5 ? null : 1 + int(3) }),
    ...(random() < 0.2 ? {} : { quarantined: random() < 0.5 }),
  };
}

/** Values a field may be set to by a mutation: wrong types, edges, and near-misses. */
const HOSTILE: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'x'.repeat(65),
  'x'.repeat(201),
  '😀'.repeat(40),
  '😀'.repeat(110),
  '\u0000',
  0,
  -0,
  -1,
  0.5,
  1,
  3,
  4,
  5,
  2.5,
  1000,
  1000.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_VALUE,
  true,
  false,
  [],
  [{}],
  {},
  'A',
  'C',
  'GPU',
  'TPU',
  'online',
  'ONLINE',
  '310115',
  '31011',
  '3101150',
  '３１０１１５',
  '2026-01-01T00:00:00.000Z',
  '2026-01-01T00:00:00Z',
  '2026-13-01T00:00:00.000Z',
  '2026-02-30T00:00:00.000Z',
  '2026-01-01T00:00:00.000+08:00',
  '0000-01-01T00:00:00.000Z',
  '+010000-01-01T00:00:00.000Z',
  new Date(0),
  Array.from({ length: 17 }, () => ({ kind: 'GPU', model: 'm', domestic: false })),
];

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [];
  const paths: Array<Array<string | number>> = [];
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    paths.push(path, ...pathsOf(child, path));
  }
  return paths;
}

function withValue(root: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined && !Array.isArray(node)) delete node[last];
  else node[last] = value;
  return copy;
}

describe('isPoolData, the fast check of pool events', () => {
  it('takes every valid pool (so the fast path is the one taken)', () => {
    const random = seededRandom(4711);
    for (let i = 0; i < 500; i += 1) {
      const pool = validPool(random, i);
      expect(poolData.safeParse(pool).success).toBe(true);
      expect(isPoolData(pool)).toBe(true);
    }
  });

  it('never takes what the zod schema refuses, over every field set to every hostile value', () => {
    const random = seededRandom(17);
    let refused = 0;
    let tried = 0;
    for (let i = 0; i < 12; i += 1) {
      const pool = validPool(random, i);
      for (const path of pathsOf(pool)) {
        for (const value of HOSTILE) {
          const mutated = withValue(pool, path, value);
          tried += 1;
          const zodAccepts = poolData.safeParse(mutated).success;
          if (!zodAccepts) refused += 1;
          if (isPoolData(mutated) && !zodAccepts)
            throw new Error(`isPoolData took ${JSON.stringify(path)} = ${String(value)}`);
        }
      }
    }
    // The mutations really reach refusals (the test is not vacuous).
    expect(tried).toBeGreaterThan(10_000);
    expect(refused).toBeGreaterThan(tried / 2);
  });

  it('takes the risk members exactly as zod does: absent, null or 1 to 4, a boolean', () => {
    const pool = validPool(seededRandom(8), 1);
    const { securityLevelCap: _cap, quarantined: _quarantined, ...older } = pool;
    const variants: unknown[] = [
      older,
      { ...older, securityLevelCap: undefined, quarantined: undefined },
      ...[null, 1, 2, 3, 4, 0, 5, 2.5, -1, '2', true, Number.NaN].map((securityLevelCap) => ({
        ...older,
        securityLevelCap,
      })),
      ...[true, false, null, 0, 1, 'true', {}].map((quarantined) => ({ ...older, quarantined })),
    ];
    for (const variant of variants)
      expect([variant, isPoolData(variant)]).toEqual([
        variant,
        poolData.safeParse(variant).success,
      ]);
  });

  it('accepts through zod what the fast check does not, and names the refused field', () => {
    const pool = validPool(seededRandom(3), 1);
    // Written without milliseconds: not the fast check's form, valid for zod.
    const other = { ...pool, lastReportedAt: '2026-01-01T00:00:00Z' };
    expect(isPoolData(other)).toBe(false);
    expect(checkedPoolData.safeParse(other)).toMatchObject({ success: true });
    const bad = { ...pool, held: { ...pool.held, gpuCards: -1 } };
    const parsed = checkedPoolData.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].path).toEqual(['held', 'gpuCards']);
  });
});

describe('poolJsonBound', () => {
  it('bounds the JSON of pools with the longest numbers and every optional member', () => {
    const random = seededRandom(9);
    const long = Number.MAX_VALUE;
    const most = Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < 50; i += 1) {
      const pool = validPool(random, i);
      expect(JSON.stringify(pool).length).toBeLessThanOrEqual(poolJsonBound(pool));
    }
    const pool = validPool(random, 1);
    const worst: PoolData = {
      ...pool,
      version: most,
      pue: 1 + 1 / 3,
      renewableRatio: 1 / 3 - 1e-17,
      gflopsPerWatt: 100 / 3,
      price: Object.fromEntries(Object.keys(pool.price).map((k) => [k, most])) as PoolData['price'],
      state: 'pending_filing',
      inventory: Object.fromEntries(
        Object.keys(inventoryData.shape).map((k) => [k, k.includes('Tflops') ? long : most]),
      ) as NonNullable<PoolData['inventory']>,
      inventorySequence: most,
      held: Object.fromEntries(Object.keys(pool.held).map((k) => [k, most])) as PoolData['held'],
      lastReportedAt: '2026-01-01T00:00:00.000Z',
      securityLevelCap: 4,
      quarantined: false,
    };
    expect(poolData.safeParse(worst).success).toBe(true);
    expect(JSON.stringify(worst).length).toBeLessThanOrEqual(poolJsonBound(worst));
  });
});

describe('PoolsReported', () => {
  it('carries several whole pools; a consumer reads each of them', () => {
    const random = seededRandom(5);
    const pools = [validPool(random, 1), validPool(random, 2)];
    const event = parseEvent(PoolChanges, {
      type: PoolsReported.type,
      schemaVersion: 1,
      data: { pools },
    });
    expect(event && poolsOf(event)).toEqual(pools);
    const single = parseEvent(PoolChanges, {
      type: PoolUpdated.type,
      schemaVersion: 1,
      data: pools[0],
    });
    expect(single && poolsOf(single)).toEqual([pools[0]]);
  });

  it('hands a consumer the good pools of a batch and names the field of the one that is not', () => {
    const random = seededRandom(6);
    const good = [validPool(random, 1), validPool(random, 3)];
    const pools = [good[0], { ...validPool(random, 2), regionCode: 'x' }, good[1]];
    const event = parseEvent(PoolChanges, {
      type: PoolsReported.type,
      schemaVersion: 1,
      data: { pools },
    });
    const problems: string[] = [];
    expect(event && poolsOf(event, (i, problem) => problems.push(`${i} ${problem}`))).toEqual(good);
    expect(problems).toEqual([expect.stringMatching(/^1 regionCode/)]);
    // The producer refuses the batch outright, naming the pool and the field.
    expect(() => checkReportedPools(pools)).toThrow(/pools\.1: regionCode/);
  });

  it('refuses an empty or oversized batch', () => {
    const random = seededRandom(7);
    expect(() =>
      parseEvent(PoolChanges, { type: PoolsReported.type, schemaVersion: 1, data: { pools: [] } }),
    ).toThrow(/pools/);
    const many = Array.from({ length: 201 }, (_, i) => validPool(random, i));
    expect(() =>
      parseEvent(PoolChanges, {
        type: PoolsReported.type,
        schemaVersion: 1,
        data: { pools: many },
      }),
    ).toThrow(/pools/);
  });
});
