import { planBatch, planBatches } from './inventory.service';
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
    expect(plan.history.map((h) => [h.minute.getUTCMinutes(), h.sequence])).toEqual([
      [1, 7],
      [2, 9],
    ]);
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
    expect(plan.history.map((h) => [h.minute.getUTCMinutes(), h.sequence])).toEqual([
      [1, 7],
      [2, 10],
    ]);
  });

  it('plans a single batch exactly as planBatch does', () => {
    const batch = [snapshot(5, 1), snapshot(3, 0), snapshot(9, 2)];
    const pools = new Map([[POOL, { inventorySequence: 4 }]]);
    expect(planBatches([batch], pools)).toEqual(planBatch(batch, pools));
  });
});
