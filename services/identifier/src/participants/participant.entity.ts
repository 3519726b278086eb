import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Local projection of the service center's participants: just what issuing and cascading need. */
@Entity({ name: 'participant_projection' })
export class ParticipantProjectionEntity {
  @PrimaryColumn({
    name: 'participant_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'pk_participant_projection',
  })
  participantId!: string;

  @Column({ name: 'kind', type: 'varchar', length: 64 })
  kind!: string;

  /** Normalised lower-case state as the service center names it: certified, suspended, revoked, ... */
  @Column({ name: 'state', type: 'varchar', length: 32 })
  state!: string;

  /** Time of the event that set this row; older events arriving late are ignored. */
  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime!: Date;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;
}
