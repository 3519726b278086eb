import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { NodeEntity } from '../nodes/node.entity';

/**
 * A special report request (特殊时间报送) issued to a node, and the report that answered it: the
 * first one received carrying its id, and when.
 */
@Entity({ name: 'special_report_request' })
@Index('ix_special_report_request_node_issued', ['nodeCode', 'issuedAt', 'specialRequestId'])
@Index('ix_special_report_request_open', ['nodeCode', 'issuedAt', 'specialRequestId'], {
  where: '"answered_at" IS NULL',
})
export class SpecialRequestEntity {
  /** "SR", the CST issue date and a sequence number. */
  @PrimaryColumn({
    name: 'special_request_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_special_report_request',
  })
  specialRequestId!: string;

  @Column({ name: 'node_code', type: 'varchar', length: 8 })
  nodeCode!: string;

  @ManyToOne(() => NodeEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'node_code', foreignKeyConstraintName: 'fk_special_report_request_node' })
  node?: NodeEntity;

  /** cinode.national.v1.ReportType numbers, ascending. */
  @Column({ name: 'report_types', type: 'smallint', array: true })
  reportTypes!: number[];

  @Column({ name: 'period_start', type: 'timestamptz' })
  periodStart!: Date;

  @Column({ name: 'period_end', type: 'timestamptz' })
  periodEnd!: Date;

  @Column({ name: 'reason', type: 'varchar', length: 200 })
  reason!: string;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  @Column({ name: 'deadline', type: 'timestamptz' })
  deadline!: Date;

  /** The first report received for it; null while open. */
  @Column({ name: 'answered_report_id', type: 'uuid', nullable: true })
  answeredReportId!: string | null;

  @Column({ name: 'answered_at', type: 'timestamptz', nullable: true })
  answeredAt!: Date | null;
}
