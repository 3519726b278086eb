import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ParticipantEntity } from './participant.entity';

/**
 * One transition of a participant's state (registration, review, certification, ...), never updated
 * or deleted: the history ListCertificationEvents shows.
 */
@Entity({ name: 'certification_event' })
@Index('ix_certification_event_participant', ['participantId', 'createdAt', 'id'])
export class ParticipantTransitionEntity {
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
