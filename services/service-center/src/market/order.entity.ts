import type { OrderStateName } from '@cinode/contracts';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DemandEntity } from './demand.entity';

/**
 * An order on one of a demand's candidates. At most one order per demand is active at a time
 * (the partial unique index), so two PlaceOrder calls on one demand cannot both hold capacity.
 */
@Entity({ name: 'market_order' })
@Index('ix_market_order_participant', ['participantId', 'createdAt', 'id'])
@Index('ix_market_order_created_at', ['createdAt', 'id'])
@Index('ux_market_order_active_demand', ['demandId'], {
  unique: true,
  where: "\"state\" IN ('placing', 'confirmed', 'running')",
})
@Index('ux_market_order_hold', ['holdId'], { unique: true, where: '"hold_id" IS NOT NULL' })
@Index('ux_market_order_line_hold', ['lineHoldId'], {
  unique: true,
  where: '"line_hold_id" IS NOT NULL',
})
@Index('ix_market_order_line_unreleased', ['stateChangedAt'], {
  where: '"line_hold_id" IS NOT NULL AND "line_released_at" IS NULL',
})
@Index('ix_market_order_hold_unreleased', ['stateChangedAt'], {
  where: `"hold_id" IS NOT NULL AND "hold_released_at" IS NULL AND "state" IN ('cancelled', 'refused')`,
})
export class OrderEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_market_order' })
  id!: string;

  @Column({ name: 'demand_id', type: 'uuid' })
  demandId!: string;

  @ManyToOne(() => DemandEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'demand_id', foreignKeyConstraintName: 'fk_market_order_demand' })
  demand?: DemandEntity;

  @Column({ name: 'participant_id', type: 'uuid' })
  participantId!: string;

  @Column({ name: 'customer_reference', type: 'varchar', length: 128 })
  customerReference!: string;

  @Column({ name: 'pool_id', type: 'varchar', length: 64 })
  poolId!: string;

  @Column({ name: 'provider_participant_id', type: 'varchar', length: 128 })
  providerParticipantId!: string;

  /** The candidate as selection offered it: the wire encoding of cinode.selection.v1.Candidate. */
  @Column({ name: 'candidate', type: 'bytea' })
  candidate!: Buffer;

  @Column({ name: 'hold_id', type: 'uuid', nullable: true })
  holdId!: string | null;

  /** Compute selection's reservation of the candidate's dedicated line, for a LINE path. */
  @Column({ name: 'line_hold_id', type: 'uuid', nullable: true })
  lineHoldId!: string | null;

  /**
   * When compute selection confirmed the line's bandwidth given back after the order ended; until
   * then the recovery pass keeps asking.
   */
  @Column({ name: 'line_released_at', type: 'timestamptz', nullable: true })
  lineReleasedAt!: Date | null;

  /**
   * When the pool's hold of a cancelled or refused order was seen given back (released, or ended
   * otherwise); until then the recovery pass keeps asking. A confirmed hold does not expire: one
   * whose release failed as the order ended would hold its capacity, and its allocation at the
   * provider, for good.
   */
  @Column({ name: 'hold_released_at', type: 'timestamptz', nullable: true })
  holdReleasedAt!: Date | null;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: OrderStateName;

  @Column({ name: 'detail', type: 'varchar', length: 500 })
  detail!: string;

  /** 1 when placed, one more for each change: its events' `version`. */
  @Column({ name: 'version', type: 'integer' })
  version!: number;

  /** The newest version of the allocation's task events applied (0: none yet). */
  @Column({ name: 'task_version', type: 'integer' })
  taskVersion!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;
}
