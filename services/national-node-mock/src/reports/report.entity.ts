import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { NodeEntity } from '../nodes/node.entity';

@Entity({ name: 'received_report' })
@Index('uq_received_report_receipt_number', ['receiptNumber'], { unique: true })
@Index('ix_received_report_received_at', ['receivedAt', 'reportId'])
@Index('ix_received_report_node_received_at', ['nodeCode', 'receivedAt', 'reportId'])
export class ReportEntity {
  @PrimaryColumn({
    name: 'report_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_received_report',
  })
  reportId!: string;

  @Column({ name: 'node_code', type: 'varchar', length: 8 })
  nodeCode!: string;

  @ManyToOne(() => NodeEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'node_code', foreignKeyConstraintName: 'fk_received_report_node' })
  node?: NodeEntity;

  @Column({ name: 'kind', type: 'smallint' })
  kind!: number;

  @Column({ name: 'special_request_id', type: 'varchar', length: 64 })
  specialRequestId!: string;

  @Column({ name: 'period_start', type: 'timestamptz' })
  periodStart!: Date;

  @Column({ name: 'period_end', type: 'timestamptz' })
  periodEnd!: Date;

  @Column({ name: 'generated_at', type: 'timestamptz' })
  generatedAt!: Date;

  @Column({ name: 'schema_version', type: 'varchar', length: 32 })
  schemaVersion!: string;

  @Column({ name: 'content_type', type: 'varchar', length: 64 })
  contentType!: string;

  @Column({ name: 'payload', type: 'bytea', select: false })
  payload!: Buffer;

  @Column({ name: 'payload_size', type: 'integer' })
  payloadSize!: number;

  @Column({ name: 'payload_sha256', type: 'char', length: 64 })
  payloadSha256!: string;

  @Column({ name: 'receipt_number', type: 'varchar', length: 32 })
  receiptNumber!: string;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  /** Id of the node's key that signed the report ('' for reports received before signatures). */
  @Column({ name: 'signing_key_id', type: 'varchar', length: 64, default: '' })
  signingKeyId!: string;

  /** SHA-256 of the envelope and payload, to tell a retry from a conflicting resubmission. */
  @Column({ name: 'content_sha256', type: 'char', length: 64 })
  contentSha256!: string;
}
