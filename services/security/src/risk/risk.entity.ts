import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { RiskLevelName, RiskSubjectKind } from '@cinode/contracts';

/** One part of a score. */
export interface RiskFactorRecord {
  factor: string;
  count: number;
  points: number;
}

/** The latest assessment of a participant or pool. */
@Entity({ name: 'risk' })
@Index('ix_risk_score', ['score', 'subjectKind', 'subjectId'])
export class RiskEntity {
  @PrimaryColumn({
    name: 'subject_kind',
    type: 'varchar',
    length: 16,
    primaryKeyConstraintName: 'pk_risk',
  })
  subjectKind!: RiskSubjectKind;

  @PrimaryColumn({
    name: 'subject_id',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'pk_risk',
  })
  subjectId!: string;

  @Column({ name: 'score', type: 'smallint' })
  score!: number;

  @Column({ name: 'level', type: 'varchar', length: 16 })
  level!: RiskLevelName;

  @Column({ name: 'factors', type: 'jsonb' })
  factors!: RiskFactorRecord[];

  @Column({ name: 'security_level_cap', type: 'smallint', nullable: true })
  securityLevelCap!: number | null;

  @Column({ name: 'quarantined', type: 'boolean' })
  quarantined!: boolean;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'assessed_at', type: 'timestamptz' })
  assessedAt!: Date;
}
