import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import type { AssetKindName, FindingStatusName, SecuritySeverity } from '@cinode/contracts';

/** A vulnerability on one asset, from a scanner's log or the node's own posture checks. */
@Entity({ name: 'finding' })
@Unique('uq_finding_asset_key', ['assetKind', 'assetId', 'dedupeKey'])
@Index('ix_finding_asset', ['assetKind', 'assetId', 'status'])
@Index('ix_finding_first_seen', ['firstSeenAt', 'findingId'])
@Index('ix_finding_status_due', ['status', 'dueAt'])
export class FindingEntity {
  @PrimaryColumn({ name: 'finding_id', type: 'uuid', primaryKeyConstraintName: 'pk_finding' })
  findingId!: string;

  @Column({ name: 'asset_kind', type: 'varchar', length: 16 })
  assetKind!: AssetKindName;

  @Column({ name: 'asset_id', type: 'varchar', length: 128 })
  assetId!: string;

  /** SHA-256 (hex) of tool, rule and the scanner's fingerprint: one finding per asset and key. */
  @Column({ name: 'dedupe_key', type: 'varchar', length: 64 })
  dedupeKey!: string;

  @Column({ name: 'tool', type: 'varchar', length: 200 })
  tool!: string;

  @Column({ name: 'rule_id', type: 'varchar', length: 1000 })
  ruleId!: string;

  @Column({ name: 'title', type: 'varchar', length: 500 })
  title!: string;

  @Column({ name: 'message', type: 'varchar', length: 4000 })
  message!: string;

  @Column({ name: 'severity', type: 'varchar', length: 16 })
  severity!: SecuritySeverity;

  @Column({ name: 'cvss_score', type: 'double precision', nullable: true })
  cvssScore!: number | null;

  @Column({ name: 'cve_ids', type: 'text', array: true })
  cveIds!: string[];

  @Column({ name: 'location', type: 'varchar', length: 1200 })
  location!: string;

  @Column({ name: 'help_uri', type: 'varchar', length: 2000 })
  helpUri!: string;

  /** For a posture finding: the endpoint whose check found it. */
  @Column({ name: 'endpoint_id', type: 'uuid', nullable: true })
  endpointId!: string | null;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: FindingStatusName;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  @Column({ name: 'due_at', type: 'timestamptz' })
  dueAt!: Date;

  @Column({ name: 'accepted_until', type: 'timestamptz', nullable: true })
  acceptedUntil!: Date | null;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'note', type: 'varchar', length: 1000 })
  note!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
