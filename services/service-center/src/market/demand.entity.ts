import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const DEMAND_STATES = ['open', 'ordered'] as const;
export type DemandStateName = (typeof DEMAND_STATES)[number];

/**
 * A demand and compute selection's answer to it. The demand, weights and answer are kept as the
 * wire encoding of their proto messages (cinode.selection.v1.Demand, Weights and
 * cinode.market.v1.SelectionSnapshot): they read back exactly as they were asked and answered,
 * fields added to the protos later included.
 */
@Entity({ name: 'demand' })
@Index('ix_demand_participant', ['participantId', 'createdAt', 'id'])
@Index('ix_demand_created_at', ['createdAt', 'id'])
export class DemandEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_demand' })
  id!: string;

  /** The submitter: a user, or a reseller acting for `customerReference`. */
  @Column({ name: 'participant_id', type: 'uuid' })
  participantId!: string;

  /** The reseller's customer; '' for a user's own demand. */
  @Column({ name: 'customer_reference', type: 'varchar', length: 128 })
  customerReference!: string;

  @Column({ name: 'demand', type: 'bytea' })
  demand!: Buffer;

  @Column({ name: 'weights', type: 'bytea' })
  weights!: Buffer;

  @Column({ name: 'top_k', type: 'integer' })
  topK!: number;

  @Column({ name: 'selection', type: 'bytea' })
  selection!: Buffer;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: DemandStateName;

  /** The active or last order on it. */
  @Column({ name: 'order_id', type: 'uuid', nullable: true })
  orderId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'state_changed_at', type: 'timestamptz' })
  stateChangedAt!: Date;
}
