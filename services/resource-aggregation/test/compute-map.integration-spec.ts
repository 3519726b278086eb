import type { InventoryData } from '@cinode/contracts';
import { seededRandom } from '@cinode/common';
import type { GrpcClient } from '@cinode/grpc';
import {
  PoolClass,
  type GetComputeMapResponse,
  type Inventory,
  type ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { bearer } from '@cinode/testing';
import type { Client } from 'pg';
import {
  FULL_INVENTORY,
  insertPool,
  startAggregationWithInfra,
  type AggregationUnderTest,
} from './aggregation-harness';

// The compute map is summed in the database. Checked against the same sums worked out here, pool
// by pool, over 300 random pools of every kind the map must count or leave out: several models or
// none, holds above what is free, other regions and classes, quarantined, stale, offline,
// suspended, pending filing, never reported. The real service and its Postgres.

const FIELDS = Object.keys(FULL_INVENTORY) as Array<keyof InventoryData>;
const HELD_OF: Partial<Record<keyof InventoryData, string>> = {
  cpuCoresFree: 'cpuCores',
  gpuCardsFree: 'gpuCards',
  npuCardsFree: 'npuCards',
  memoryGibFree: 'memoryGib',
  storageGibFree: 'storageGib',
};
const MODELS = ['A100', 'H800', 'Ascend910B', 'MLU370'];
const REGIONS = ['310115', '310104', '110105', '440305'];

interface PoolRow {
  region_code: string;
  pool_class: 'A' | 'B';
  accelerators: Array<{ model: string }>;
  inventory: InventoryData;
  held: Record<string, number>;
}

let node: AggregationUnderTest | undefined;
let db: Client;
let client: GrpcClient<ResourceServiceClient>;
let regulator: string;

beforeAll(async () => {
  node = await startAggregationWithInfra();
  ({ db, client } = node);
  regulator = await node.auth.token(['regulator'], 'regulator-1');
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const amount = (max: number) => Math.floor(random() * max);
  for (let i = 0; i < 300; i += 1) {
    const poolId = `CN.R0001.RP.${String(100_000_000 + i).slice(1)}`;
    const inventory = Object.fromEntries(
      FIELDS.map((field) => [field, field.includes('Tflops') ? amount(4_000) / 8 : amount(500)]),
    ) as unknown as InventoryData;
    await insertPool(db, poolId, { inventory, lastReportedAt: new Date() });
    const models = MODELS.filter(() => random() < 0.3);
    // A model listed twice (two kinds of card of one model) counts the pool once in its cell.
    if (i % 50 === 0) models.push(MODELS[0], MODELS[0]);
    await db.query(
      `UPDATE pool SET region_code = $2, pool_class = $3, accelerators = $4, held = $5,
         filing = $6, liveness = $7, quarantined = $8,
         inventory = CASE WHEN $9 THEN NULL ELSE inventory END
       WHERE pool_id = $1`,
      [
        poolId,
        pick(REGIONS),
        pick(['A', 'B']),
        JSON.stringify(models.map((model) => ({ kind: 'GPU', model, domestic: false }))),
        {
          cpuCores: amount(600),
          gpuCards: amount(600),
          npuCards: amount(600),
          memoryGib: amount(600),
          storageGib: amount(600),
        },
        pick(['filed', 'filed', 'filed', 'filed', 'suspended', 'pending']),
        pick(['online', 'online', 'online', 'online', 'stale', 'offline']),
        random() < 0.1,
        random() < 0.05,
      ],
    );
  }
}, 120_000);

afterAll(() => node?.stop());

/** The map as the service computed it before it summed in the database: pool by pool. */
async function expectedMap(regionCode: string) {
  const { rows } = await db.query<PoolRow>(
    `SELECT region_code, pool_class, accelerators, inventory, held FROM pool
      WHERE filing = 'filed' AND liveness = 'online' AND inventory IS NOT NULL AND NOT quarantined
        AND ($1 = '' OR region_code = $1)`,
    [regionCode],
  );
  const empty = () => Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as InventoryData;
  const add = (sum: InventoryData, row: PoolRow, net: boolean) => {
    for (const field of FIELDS) {
      const held = HELD_OF[field];
      const value = row.inventory[field];
      sum[field] += net && held ? Math.max(0, value - row.held[held]) : value;
    }
  };
  const totals = { pools: 0, total: empty(), free: empty() };
  const cells = new Map<
    string,
    { key: string[]; pools: number; total: InventoryData; free: InventoryData }
  >();
  for (const row of rows) {
    totals.pools += 1;
    add(totals.total, row, false);
    add(totals.free, row, true);
    const models =
      row.accelerators.length > 0 ? [...new Set(row.accelerators.map((a) => a.model))] : [''];
    for (const model of models) {
      const key = [row.region_code, row.pool_class, model];
      const id = key.join('/');
      const cell = cells.get(id) ?? { key, pools: 0, total: empty(), free: empty() };
      cells.set(id, cell);
      cell.pools += 1;
      add(cell.total, row, false);
      add(cell.free, row, true);
    }
  }
  return { rows: rows.length, totals, cells: [...cells.values()] };
}

const numbers = (inventory: Inventory | InventoryData | undefined) =>
  FIELDS.map((field) => (inventory as unknown as Record<string, number>)[field]);

function expectSums(actual: Inventory | undefined, expected: InventoryData): void {
  const got = numbers(actual);
  numbers(expected).forEach((value, i) => expect(got[i]).toBeCloseTo(value, 6));
}

it.each(['', '310115'])(
  'sums the pools in selection of region "%s" as pool by pool',
  async (region) => {
    const expected = await expectedMap(region);
    // The random pools cover what the map leaves out, and more than one cell.
    expect(expected.rows).toBeGreaterThan(20);
    expect(expected.rows).toBeLessThan(300);
    expect(expected.cells.length).toBeGreaterThan(region === '' ? 20 : 5);

    const map: GetComputeMapResponse = await client.api.getComputeMap(
      { regionCode: region },
      { metadata: bearer(regulator) },
    );
    expect(map.pools).toBe(expected.totals.pools);
    expectSums(map.total, expected.totals.total);
    expectSums(map.free, expected.totals.free);
    expect(map.cells).toHaveLength(expected.cells.length);
    for (const cell of expected.cells) {
      const [regionCode, poolClass, model] = cell.key;
      const found = map.cells.find(
        (c) =>
          c.regionCode === regionCode &&
          c.acceleratorModel === model &&
          (c.poolClass === PoolClass.POOL_CLASS_BARE_METAL) === (poolClass === 'A'),
      );
      expect(found?.pools).toBe(cell.pools);
      expectSums(found?.total, cell.total);
      expectSums(found?.free, cell.free);
    }
  },
);

it('answers an empty map for a region without pools', async () => {
  const map = await client.api.getComputeMap(
    { regionCode: '650102' },
    { metadata: bearer(regulator) },
  );
  expect(map.pools).toBe(0);
  expect(map.cells).toEqual([]);
  expect(numbers(map.total).every((n) => n === 0)).toBe(true);
});
