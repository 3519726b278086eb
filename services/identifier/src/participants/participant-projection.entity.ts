import type { ParticipantKindName, ParticipantStateName } from '@cinode/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Local projection of the service center's participants: what issuing (the owner's certified
 * name and credit code) and the owner cascades need. Kept from the participant lifecycle events,
 * each applied only when it is newer (by the participant's version) than the row.
 */
@Entity({ name: 'participant_projection' })
export class ParticipantProjectionEntity {
  @PrimaryColumn({
    name: 'participant_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'pk_participant_projection',
  })
  participantId!: string;

  /**
   * Version of the participant event that set this row. 0 for rows carried over from before
   * events had versions: any versioned event replaces them.
   */
  @Column({ name: 'version', type: 'integer' })
  version!: number;

  /** The contract's name, e.g. COMPUTE_PROVIDER. */
  @Column({ name: 'kind', type: 'varchar', length: 64 })
  kind!: ParticipantKindName;

  /** The contract's name, e.g. CERTIFIED. */
  @Column({ name: 'state', type: 'varchar', length: 32 })
  state!: ParticipantStateName;

  /** Legal name as the certified record holds it; null only on rows carried over from before it was projected. */
  @Column({ name: 'legal_name', type: 'varchar', length: 200, nullable: true })
  legalName!: string | null;

  /** Unified social credit code; null for individuals (and on rows carried over). */
  @Column({ name: 'credit_code', type: 'varchar', length: 18, nullable: true })
  creditCode!: string | null;

  /** The event that set this row, to trace it back. */
  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;
}
