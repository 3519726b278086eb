import type { HeldData, TaskStateName } from '@cinode/contracts';
import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../pools/pool.entity';

/** Capacity of a pool allocated to an order (a confirmed hold), run as a task by its provider. */
@Entity({ name: 'allocation' })
@Index('ux_allocation_sequence', ['sequence'], { unique: true })
@Index('ix_allocation_provider_sequence', ['providerParticipantId', 'sequence'])
@Index('ix_allocation_pool_state', ['poolId', 'state'])
@Index('ix_allocation_state_created', ['state', 'createdAt'])
export class AllocationEntity {
  /** The id of the hold it was confirmed from. */
  @PrimaryColumn({
    name: 'allocation_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_allocation',
  })
  allocationId!: string;

  @Column({ name: 'pool_id', type: 'varchar', length: 64 })
  poolId!: string;

  @Column({ name: 'provider_participant_id', type: 'varchar', length: 128 })
  providerParticipantId!: string;

  @Column({ name: 'order_reference', type: 'varchar', length: 128 })
  orderReference!: string;

  @Column({ name: 'resources', type: 'jsonb' })
  resources!: HeldData;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: TaskStateName;

  @Column({ name: 'detail', type: 'varchar', length: 500 })
  detail!: string;

  /** 1 at creation, one more for each change (the version allocation events carry). */
  @Column({ name: 'version', type: 'bigint', transformer: bigintNumber() })
  version!: number;

  /**
   * Position of the latest change in the node's change order: a new value of the column's own
   * sequence at every write, taken under a lock held to commit (AllocationsRepository.write), so
   * values become visible in order and a reader polling after the last one it saw misses none.
   */
  @Column({ name: 'sequence', type: 'bigint', transformer: bigintNumber() })
  @Generated('increment')
  sequence!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;
}
