import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ParticipantEntity } from '../participants/participant.entity';

/** One transition of a participant's certification state; never updated or deleted. */
@Entity({ name: 'certification_event' })
@Index('ix_certification_event_participant', ['participantId', 'createdAt', 'id'])
export class CertificationEventEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_certification_event' })
  id!: string;

  @Column({ name: 'participant_id', type: 'uuid' })
  participantId!: string;

  @ManyToOne(() => ParticipantEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({
    name: 'participant_id',
    foreignKeyConstraintName: 'fk_certification_event_participant',
  })
  participant?: ParticipantEntity;

  /** ParticipantState before; 0 for the registration. */
  @Column({ name: 'from_state', type: 'smallint' })
  fromState!: number;

  @Column({ name: 'to_state', type: 'smallint' })
  toState!: number;

  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  @Column({ name: 'reason', type: 'varchar', length: 500 })
  reason!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
