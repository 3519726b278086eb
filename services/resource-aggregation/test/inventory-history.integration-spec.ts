import { toTimestamp, type GrpcClient } from '@cinode/grpc';
import type {
  InventorySnapshot,
  ResourceServiceClient,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { bearer } from '@cinode/testing';
import type { Client } from 'pg';
import {
  FULL_INVENTORY,
  insertPool,
  startAggregationWithInfra,
  type AggregationUnderTest,
} from './aggregation-harness';

// The one-minute history: a pool's latest snapshot is its minute's point in the pool's row, and
// goes into inventory_minute only when a snapshot of another minute replaces it. What the table
// holds, and what ListInventoryHistory answers (the table and the row), on the real service and
// its Postgres.
const POOL_ID = 'CN.R0001.RP.000000021';
const PROVIDER = 'prov-1';

let node: AggregationUnderTest | undefined;
let db: Client;
let client: GrpcClient<ResourceServiceClient>;
let provider: string;
/** A whole minute ten minutes ago: the snapshots' minutes count from it. */
const base = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;

beforeAll(async () => {
  node = await startAggregationWithInfra();
  ({ db, client } = node);
  provider = await node.auth.token(['provider'], 'prov-1-agent', PROVIDER);
  await insertPool(db, POOL_ID, { providerParticipantId: PROVIDER });
});

afterAll(async () => {
  await node?.stop();
});

function snapshot(sequence: number, minute: number, second: number): InventorySnapshot {
  return {
    poolId: POOL_ID,
    sequence,
    observedAt: toTimestamp(new Date(base + minute * 60_000 + second * 1_000)),
    inventory: { ...FULL_INVENTORY, cpuCoresFree: sequence },
  };
}

async function report(...snapshots: InventorySnapshot[]): Promise<void> {
  await client.api.reportInventory({ snapshots }, { metadata: bearer(provider) });
}

/** inventory_minute's rows: [minute from base, sequence, cpuCoresFree]. */
async function stored(): Promise<number[][]> {
  const { rows } = await db.query<{ minute: Date; sequence: string; free: number }>(
    `SELECT minute, sequence, (inventory->>'cpuCoresFree')::int AS free FROM inventory_minute
     WHERE pool_id = $1 ORDER BY minute`,
    [POOL_ID],
  );
  return rows.map((r) => [(r.minute.getTime() - base) / 60_000, Number(r.sequence), r.free]);
}

/** Every page of ListInventoryHistory at `pageSize`: [minute from base, sequence]. */
async function history(pageSize: number): Promise<number[][]> {
  const points: number[][] = [];
  let pageToken = '';
  for (let page = 0; page < 20; page++) {
    const answer = await client.api.listInventoryHistory(
      { poolId: POOL_ID, from: undefined, to: undefined, pageSize, pageToken },
      { metadata: bearer(provider) },
    );
    for (const point of answer.points)
      points.push([
        (Number(point.minute!.seconds) * 1_000 - base) / 60_000,
        Number(point.sequence),
      ]);
    if (!answer.nextPageToken) return points;
    pageToken = answer.nextPageToken;
  }
  throw new Error('more than 20 pages');
}

it("keeps a pool's latest in its row, and moves it to the history when another minute's replaces it", async () => {
  await report(snapshot(1, 0, 5));
  await report(snapshot(2, 0, 40));
  expect(await stored()).toEqual([]);
  expect(await history(10)).toEqual([[0, 2]]);

  // Minute 1 replaces minute 0's latest (2): minute 0 is written, once, as it stood.
  await report(snapshot(3, 1, 10));
  expect(await stored()).toEqual([[0, 2, 2]]);
  expect(await history(10)).toEqual([
    [0, 2],
    [1, 3],
  ]);

  // One batch over three minutes: the minutes besides the latest's are written at once, and the
  // latest it replaces (3) is kept for minute 1 unless a newer one of minute 1 came (4 did).
  await report(snapshot(4, 1, 50), snapshot(5, 2, 0), snapshot(6, 3, 0));
  expect(await stored()).toEqual([
    [0, 2, 2],
    [1, 4, 4],
    [2, 5, 5],
  ]);
  expect(await history(10)).toEqual([
    [0, 2],
    [1, 4],
    [2, 5],
    [3, 6],
  ]);
  // Page by page, the row's point comes last, on its own page.
  expect(await history(1)).toEqual([
    [0, 2],
    [1, 4],
    [2, 5],
    [3, 6],
  ]);
  expect(await history(3)).toEqual(await history(10));
});

it('moves a late snapshot of an earlier minute into that minute, over the older point stored there', async () => {
  // A late snapshot of minute 2 (sequence 7) arrives after 6 (minute 3): it becomes the latest,
  // and 6 moves to minute 3. Then minute 4 replaces 7 in minute 2, where 5 was stored: 7 is newer.
  await report(snapshot(7, 2, 30));
  expect(await stored()).toEqual([
    [0, 2, 2],
    [1, 4, 4],
    [2, 5, 5],
    [3, 6, 6],
  ]);
  await report(snapshot(8, 4, 0));
  expect(await stored()).toEqual([
    [0, 2, 2],
    [1, 4, 4],
    [2, 7, 7],
    [3, 6, 6],
  ]);
  expect(await history(10)).toEqual([
    [0, 2],
    [1, 4],
    [2, 7],
    [3, 6],
    [4, 8],
  ]);
});
