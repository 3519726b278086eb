import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { NodeReportEntity } from './report.entity';

export const ATTEMPT_OUTCOMES = [
  'in_flight',
  'delivered',
  'failed',
  'rejected',
  'interrupted',
] as const;
export type AttemptOutcomeName = (typeof ATTEMPT_OUTCOMES)[number];

/** One call of SubmitReport for a report: recorded when it starts, settled when it ends. */
@Entity({ name: 'report_delivery_attempt' })
export class DeliveryAttemptEntity {
  @PrimaryColumn({
    name: 'report_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_report_delivery_attempt',
  })
  reportId!: string;

  @PrimaryColumn({
    name: 'attempt',
    type: 'integer',
    primaryKeyConstraintName: 'pk_report_delivery_attempt',
  })
  attempt!: number;

  @ManyToOne(() => NodeReportEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'report_id', foreignKeyConstraintName: 'fk_report_delivery_attempt_report' })
  report?: NodeReportEntity;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'outcome', type: 'varchar', length: 16 })
  outcome!: AttemptOutcomeName;

  @Column({ name: 'grpc_status', type: 'varchar', length: 32, default: '' })
  grpcStatus!: string;

  @Column({ name: 'error', type: 'text', default: '' })
  error!: string;
}
