import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One call of a state-changing RPC. Written in the transaction of the change when there is one, so
 * `committed` records and changes exist together. Append-only (a trigger refuses UPDATE, DELETE and
 * TRUNCATE): a call that committed and then failed gets a second record, its settlement, naming
 * the first (`settlesId`). The chainer links every committed record into a hash chain once
 * (`chainPosition`, `chainHash`), the only change a record ever sees; see audit-chain.ts.
 */
@Entity({ name: 'audit_log' })
@Check('ck_audit_log_chain_position', `"chain_position" >= 1`)
@Index('uq_audit_log_sequence', ['sequence'], { unique: true })
@Index('ix_audit_log_occurred_at', ['occurredAt', 'sequence'])
@Index('ix_audit_log_object', ['objectType', 'objectId', 'sequence'])
@Index('ix_audit_log_actor', ['actor', 'sequence'])
@Index('uq_audit_log_chain_position', ['chainPosition'], { unique: true })
@Index('ix_audit_log_unchained', ['sequence'], { where: 'chain_position IS NULL' })
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

  /** For a settlement: the record of the call whose real outcome this is; otherwise null. */
  @Column({ name: 'settles_id', type: 'uuid', nullable: true })
  settlesId!: string | null;

  /** 1, 2, 3, ... in the order the chainer linked the records; null until linked. */
  @Column({
    name: 'chain_position',
    type: 'bigint',
    nullable: true,
    transformer: {
      to: (v: number | null) => v,
      from: (v: string | null) => (v === null ? null : Number(v)),
    },
  })
  chainPosition!: number | null;

  /** SHA-256 (hex) over the previous record's hash and this record's content; null until linked. */
  @Column({ name: 'chain_hash', type: 'char', length: 64, nullable: true })
  chainHash!: string | null;
}
