import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { QuarantineStateName, RiskSubjectKind } from '@cinode/contracts';

/** A quarantine of a participant or pool; at most one not lifted per subject. */
@Entity({ name: 'quarantine' })
@Index('uq_quarantine_open_subject', ['subjectKind', 'subjectId'], {
  unique: true,
  where: `"state" <> 'lifted'`,
})
@Index('ix_quarantine_started', ['startedAt', 'quarantineId'])
export class QuarantineEntity {
  @PrimaryColumn({ name: 'quarantine_id', type: 'uuid', primaryKeyConstraintName: 'pk_quarantine' })
  quarantineId!: string;

  @Column({ name: 'subject_kind', type: 'varchar', length: 16 })
  subjectKind!: RiskSubjectKind;

  @Column({ name: 'subject_id', type: 'varchar', length: 128 })
  subjectId!: string;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: QuarantineStateName;

  @Column({ name: 'reason', type: 'varchar', length: 500 })
  reason!: string;

  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'version', type: 'integer' })
  version!: number;
}
