import type { InventoryMinuteEntity } from './inventory-minute.entity';
import { planBatch, planBatches, withLatestPoint } from './inventory.service';
import type { CheckedSnapshot } from './inventory-input';
import { EMPTY_INVENTORY } from '../pools/pool-view';

const POOL = 'CN.R0001.RP.000000011';

function snapshot(sequence: number, minute: number, tooOld = false): CheckedSnapshot {
  return {
    poolId: POOL,
    sequence,
    observedAt: new Date(Date.UTC(2026, 11, 1, 0, minute, sequence % 60)),
    inventory: { ...EMPTY_INVENTORY, cpuCoresTotal: sequence, cpuCoresFree: sequence },
    tooOld,
  };
}

describe(planBatch.name, () => {
  it('applies each sequence above the latest once, keeps the newest per minute, ignores the rest', () => {
    const plan = planBatch(
      [
        snapshot(5, 1),
        snapshot(7, 1),
        snapshot(7, 1),
        snapshot(3, 0),
        snapshot(9, 2),
        snapshot(12, 3, true),
      ],
      new Map([[POOL, { inventorySequence: 4 }]]),
    );
    expect(plan.applied).toBe(3);
    expect(plan.latest.map((l) => l.sequence)).toEqual([9]);
    // The latest (9) is its minute's point in the pool's row, not a history row yet.
    expect(plan.history.map((h) => [h.minute.getUTCMinutes(), h.sequence])).toEqual([[1, 7]]);
  });
});

describe(planBatches.name, () => {
  it('plans consecutive batches as if each were applied after the ones before it', () => {
    const batches = [
      [snapshot(5, 1), snapshot(7, 1)],
      [snapshot(7, 1), snapshot(6, 1), snapshot(9, 2)],
      [snapshot(8, 2), snapshot(12, 3, true), snapshot(10, 2)],
    ];
    const plan = planBatches(batches, new Map([[POOL, { inventorySequence: 4 }]]));
    // One after another: 5 and 7; then 9 (7 is repeated, 6 is below 7); then 10 (8 is below 9).
    expect(plan.applied).toBe(4);
    expect(plan.latest.map((l) => l.sequence)).toEqual([10]);
    // 7, the first batch's latest, is replaced by a snapshot of another minute: history.
    expect(plan.history.map((h) => [h.minute.getUTCMinutes(), h.sequence])).toEqual([[1, 7]]);
  });

  it("keeps a replaced batch's latest in its minute unless a newer one of that minute came", () => {
    const plan = planBatches(
      [[snapshot(5, 1)], [snapshot(6, 2)], [snapshot(7, 2)], [snapshot(8, 3)]],
      new Map([[POOL, { inventorySequence: 4 }]]),
    );
    expect(plan.latest.map((l) => l.sequence)).toEqual([8]);
    expect(plan.history.map((h) => [h.minute.getUTCMinutes(), h.sequence])).toEqual([
      [1, 5],
      [2, 7],
    ]);
  });

  it('plans a single batch exactly as planBatch does', () => {
    const batch = [snapshot(5, 1), snapshot(3, 0), snapshot(9, 2)];
    const pools = new Map([[POOL, { inventorySequence: 4 }]]);
    expect(planBatches([batch], pools)).toEqual(planBatch(batch, pools));
  });
});

describe(withLatestPoint.name, () => {
  const minute = (m: number) => new Date(Date.UTC(2026, 11, 1, 0, m));
  const row = (m: number, sequence: number): InventoryMinuteEntity => ({
    poolId: POOL,
    minute: minute(m),
    sequence,
    inventory: { ...EMPTY_INVENTORY, cpuCoresTotal: sequence },
  });
  const pool = (m: number, sequence: number) => ({
    poolId: POOL,
    inventory: { ...EMPTY_INVENTORY, cpuCoresTotal: sequence },
    inventorySequence: sequence,
    observedAt: new Date(minute(m).getTime() + 30_000),
  });
  const range = { from: minute(0), to: minute(60), after: undefined };
  const points = (rows: InventoryMinuteEntity[]) =>
    rows.map((r) => [r.minute.getUTCMinutes(), r.sequence]);

  it("adds the pool's latest as its minute's point, in order", () => {
    expect(points(withLatestPoint([row(1, 3), row(2, 5)], pool(4, 9), 10, range))).toEqual([
      [1, 3],
      [2, 5],
      [4, 9],
    ]);
  });

  it('replaces an older stored point of the same minute, and keeps a newer one', () => {
    expect(points(withLatestPoint([row(1, 3), row(4, 7)], pool(4, 9), 10, range))).toEqual([
      [1, 3],
      [4, 9],
    ]);
    expect(points(withLatestPoint([row(4, 11)], pool(4, 9), 10, range))).toEqual([[4, 11]]);
  });

  it('keeps a page at limit + 1 points, the latest going to a later page', () => {
    expect(
      points(withLatestPoint([row(1, 1), row(2, 2), row(3, 3)], pool(9, 9), 2, range)),
    ).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(
      points(withLatestPoint([row(1, 1), row(5, 2), row(6, 3)], pool(2, 9), 2, range)),
    ).toEqual([
      [1, 1],
      [2, 9],
      [5, 2],
    ]);
  });

  it('leaves it out when outside the range, before the page start, or none', () => {
    const stored = [row(1, 3)];
    expect(withLatestPoint(stored, pool(4, 9), 10, { ...range, to: minute(4) })).toBe(stored);
    expect(withLatestPoint(stored, pool(4, 9), 10, { ...range, from: minute(5) })).toBe(stored);
    expect(withLatestPoint(stored, pool(4, 9), 10, { ...range, after: minute(4) })).toBe(stored);
    expect(withLatestPoint(stored, { ...pool(4, 9), inventory: null }, 10, range)).toBe(stored);
    expect(points(withLatestPoint(stored, pool(4, 9), 10, { ...range, from: minute(4) }))).toEqual([
      [1, 3],
      [4, 9],
    ]);
  });
});
