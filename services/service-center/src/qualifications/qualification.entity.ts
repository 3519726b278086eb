import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ParticipantEntity } from '../participants/participant.entity';

/**
 * A resale qualification. Its state is derived when read (revoked, else by validity period), so
 * expiry never depends on a job; `expiry_recorded_at` only marks that the expiry event was emitted.
 */
@Entity({ name: 'qualification' })
@Index('ix_qualification_participant', ['participantId', 'createdAt', 'id'])
@Index('ix_qualification_created_at', ['createdAt', 'id'])
@Index('ix_qualification_pending_expiry', ['validUntil'], {
  where: '"revoked_at" IS NULL AND "expiry_recorded_at" IS NULL',
})
export class QualificationEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_qualification' })
  id!: string;

  @Column({ name: 'participant_id', type: 'uuid' })
  participantId!: string;

  @ManyToOne(() => ParticipantEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'participant_id', foreignKeyConstraintName: 'fk_qualification_participant' })
  participant?: ParticipantEntity;

  /** 1 when granted, one more when revoked or its expiry is recorded: its events' `version`. */
  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'valid_from', type: 'timestamptz' })
  validFrom!: Date;

  @Column({ name: 'valid_until', type: 'timestamptz' })
  validUntil!: Date;

  @Column({ name: 'granted_by', type: 'varchar', length: 128 })
  grantedBy!: string;

  @Column({ name: 'grant_reason', type: 'varchar', length: 500 })
  grantReason!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'varchar', length: 128, nullable: true })
  revokedBy!: string | null;

  @Column({ name: 'revoke_reason', type: 'varchar', length: 500, nullable: true })
  revokeReason!: string | null;

  @Column({ name: 'expiry_recorded_at', type: 'timestamptz', nullable: true })
  expiryRecordedAt!: Date | null;
}
