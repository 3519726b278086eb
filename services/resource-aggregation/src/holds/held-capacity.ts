import { Injectable } from '@nestjs/common';
import type { HeldData } from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import { NOTHING_HELD, poolEvent } from '../pools/pool-view';
import type { PoolEntity } from '../pools/pool.entity';
import { HoldsRepository } from './holds.repository';

/** The units a hold takes: its key and the proto field name. */
export const HELD_RESOURCES: ReadonlyArray<[keyof HeldData, string]> = [
  ['cpuCores', 'cpu_cores'],
  ['gpuCards', 'gpu_cards'],
  ['npuCards', 'npu_cards'],
  ['memoryGib', 'memory_gib'],
  ['storageGib', 'storage_gib'],
];

/**
 * A pool's held capacity: the sum of its active and confirmed holds, changed only under the pool's
 * row lock, together with the hold that takes or gives it, in the same transaction.
 */
@Injectable()
export class HeldCapacity {
  constructor(private readonly holds: HoldsRepository) {}

  /** Adds (`1`) or removes (`-1`) a hold's resources; the pool's version advances, its event goes out. */
  async change(tx: Tx, pool: PoolEntity, resources: HeldData, sign: 1 | -1): Promise<void> {
    pool.held = addHeld(pool.held, resources, sign);
    pool.version += 1;
    await this.holds.setHeld(tx, pool);
    await tx.emit(poolEvent(pool));
  }
}

export function addHeld(held: HeldData, resources: HeldData, sign: 1 | -1): HeldData {
  const sum = { ...NOTHING_HELD };
  for (const [field] of HELD_RESOURCES)
    sum[field] = Math.max(0, held[field] + sign * resources[field]);
  return sum;
}
