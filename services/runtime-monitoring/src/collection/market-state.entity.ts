import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** When each demand was submitted, to time it to its allocation (pruned with the feed). */
@Entity({ name: 'demand_seen' })
@Index('ix_demand_seen_submitted_at', ['submittedAt'])
export class DemandSeenEntity {
  @PrimaryColumn({ name: 'demand_id', type: 'uuid', primaryKeyConstraintName: 'pk_demand_seen' })
  demandId!: string;

  @Column({ name: 'submitted_at', type: 'timestamptz' })
  submittedAt!: Date;
}

/** When each allocation was created and its task first ran, for the task response time. */
@Entity({ name: 'allocation_seen' })
@Index('ix_allocation_seen_created_at', ['createdAt'])
export class AllocationSeenEntity {
  @PrimaryColumn({
    name: 'allocation_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_allocation_seen',
  })
  allocationId!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'running_at', type: 'timestamptz', nullable: true })
  runningAt!: Date | null;
}

/** Each participant's kind and newest state, for the levels of certified participants. */
@Entity({ name: 'participant_seen' })
@Index('ix_participant_seen_kind_state', ['kind', 'state'])
export class ParticipantSeenEntity {
  @PrimaryColumn({
    name: 'participant_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_participant_seen',
  })
  participantId!: string;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'kind', type: 'varchar', length: 32 })
  kind!: string;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: string;
}
