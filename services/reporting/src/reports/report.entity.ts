import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const REPORT_STATES = ['pending', 'delivered', 'rejected', 'missed', 'superseded'] as const;
export type ReportStateName = (typeof REPORT_STATES)[number];

/**
 * A report to the national node, or the gap of a window that closed without one. The row is the
 * outbox: it is written in the transaction that builds the report, and the sender delivers it
 * until a receipt comes back.
 */
@Entity({ name: 'node_report' })
// One live entry per day and per special request; a superseded report steps aside for its rebuild.
@Index('uq_node_report_daily_date', ['reportDate'], {
  unique: true,
  where: `"kind" = 1 AND "state" <> 'superseded'`,
})
@Index('uq_node_report_special_request', ['specialRequestId'], {
  unique: true,
  where: `"kind" = 2 AND "state" <> 'superseded'`,
})
@Index('ix_node_report_due', ['nextAttemptAt'], { where: `"state" = 'pending'` })
@Index('ix_node_report_listing', ['reportDate', 'reportId'])
export class NodeReportEntity {
  @PrimaryColumn({ name: 'report_id', type: 'uuid', primaryKeyConstraintName: 'pk_node_report' })
  reportId!: string;

  /** cinode.national.v1.ReportKind: 1 daily, 2 special. */
  @Column({ name: 'kind', type: 'smallint' })
  kind!: number;

  /** For a special report: the national node's request it answers (one report per request). */
  @Column({ name: 'special_request_id', type: 'varchar', length: 64, default: '' })
  specialRequestId!: string;

  /** The CST day reported for (a special report: the day it was built). */
  @Column({ name: 'report_date', type: 'date' })
  reportDate!: string;

  @Column({ name: 'report_window', type: 'varchar', length: 16 })
  window!: string;

  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: ReportStateName;

  @Column({ name: 'period_start', type: 'timestamptz', nullable: true })
  periodStart!: Date | null;

  @Column({ name: 'period_end', type: 'timestamptz', nullable: true })
  periodEnd!: Date | null;

  @Column({ name: 'generated_at', type: 'timestamptz', nullable: true })
  generatedAt!: Date | null;

  @Column({ name: 'schema_version', type: 'varchar', length: 32 })
  schemaVersion!: string;

  @Column({ name: 'payload', type: 'bytea', nullable: true, select: false })
  payload?: Buffer | null;

  @Column({ name: 'payload_sha256', type: 'char', length: 64, nullable: true })
  payloadSha256!: string | null;

  @Column({ name: 'payload_size', type: 'integer', default: 0 })
  payloadSize!: number;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', default: '' })
  lastError!: string;

  @Column({ name: 'receipt_number', type: 'varchar', length: 32, nullable: true })
  receiptNumber!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', nullable: true })
  receivedAt!: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** For a superseded report: the report rebuilt in its place. */
  @Column({ name: 'superseded_by', type: 'uuid', nullable: true })
  supersededBy?: string | null;

  /** For a rebuilt report: the rejected report it replaces. */
  @Column({ name: 'supersedes', type: 'uuid', nullable: true })
  supersedes?: string | null;
}
