import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One call of a state-changing RPC. Written in the transaction of the change when there is one, so
 * `committed` records and changes exist together; settled (outcome, reason) once the call ended.
 * `sequence` orders the trail, which is what a hash chain will link (the security system).
 */
@Entity({ name: 'audit_log' })
@Index('uq_audit_log_sequence', ['sequence'], { unique: true })
@Index('ix_audit_log_occurred_at', ['occurredAt', 'sequence'])
@Index('ix_audit_log_object', ['objectType', 'objectId', 'sequence'])
@Index('ix_audit_log_actor', ['actor', 'sequence'])
export class AuditRecordEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_audit_log' })
  id!: string;

  @Column({
    name: 'sequence',
    type: 'bigint',
    generatedIdentity: 'ALWAYS',
    generated: 'identity',
    insert: false,
    update: false,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  sequence!: number;

  @Column({ name: 'service', type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'method', type: 'varchar', length: 200 })
  method!: string;

  @Column({ name: 'object_type', type: 'varchar', length: 50 })
  objectType!: string;

  @Column({ name: 'object_id', type: 'varchar', length: 128 })
  objectId!: string;

  /** Token subject; '' without a valid token. */
  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  /** Comma-separated roles. */
  @Column({ name: 'actor_roles', type: 'varchar', length: 200 })
  actorRoles!: string;

  @Column({ name: 'tenant', type: 'varchar', length: 128 })
  tenant!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @Column({ name: 'peer', type: 'varchar', length: 128 })
  peer!: string;

  /** Canonical status code name the caller received. */
  @Column({ name: 'outcome', type: 'varchar', length: 32 })
  outcome!: string;

  /** ErrorInfo reason; '' for OK. */
  @Column({ name: 'reason', type: 'varchar', length: 100 })
  reason!: string;

  @Column({ name: 'committed', type: 'boolean' })
  committed!: boolean;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ name: 'trace_id', type: 'varchar', length: 32 })
  traceId!: string;
}
