import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ParticipantEntity } from '../participants/participant.entity';

@Entity({ name: 'api_key' })
@Index('uq_api_key_prefix', ['prefix'], { unique: true })
@Index('ix_api_key_participant', ['participantId', 'createdAt', 'id'])
export class ApiKeyEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_api_key' })
  id!: string;

  @Column({ name: 'participant_id', type: 'uuid' })
  participantId!: string;

  @ManyToOne(() => ParticipantEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'participant_id', foreignKeyConstraintName: 'fk_api_key_participant' })
  participant?: ParticipantEntity;

  /** The visible 8-character prefix, also the lookup key of IssueToken. */
  @Column({ name: 'prefix', type: 'char', length: 8 })
  prefix!: string;

  /** SHA-256 (hex) of the whole key; the key itself is never stored. */
  @Column({ name: 'secret_hash', type: 'char', length: 64 })
  secretHash!: string;

  /** ApiKeyState enum value. */
  @Column({ name: 'state', type: 'smallint' })
  state!: number;

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoke_reason', type: 'varchar', length: 500, nullable: true })
  revokeReason!: string | null;

  /** 1 when issued, 2 once revoked: the `version` of the key's events. */
  @Column({ name: 'version', type: 'integer' })
  version!: number;
}
