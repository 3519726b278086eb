import type { HeldData } from '@cinode/contracts';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `stopping`: the order was cancelled while its provider may still run the task; the capacity stays
 * held until the provider reports the task stopped or ALLOCATION_STOP_GRACE_SECONDS have passed.
 */
export type HoldStateName = 'active' | 'confirmed' | 'stopping' | 'released' | 'expired';

/** Capacity of a pool held for an order. */
@Entity({ name: 'hold' })
@Index('ix_hold_pool_state', ['poolId', 'state'])
@Index('ix_hold_state_expires', ['state', 'expiresAt'])
export class HoldEntity {
  /** A UUIDv7, assigned by the service. */
  @PrimaryColumn({ name: 'hold_id', type: 'uuid', primaryKeyConstraintName: 'pk_hold' })
  holdId!: string;

  @Column({ name: 'pool_id', type: 'varchar', length: 64 })
  poolId!: string;

  @Column({ name: 'order_reference', type: 'varchar', length: 128 })
  orderReference!: string;

  @Column({ name: 'resources', type: 'jsonb' })
  resources!: HeldData;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: HoldStateName;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  /** Token subject of the caller that created it. */
  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;
}
