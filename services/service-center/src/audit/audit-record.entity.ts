import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Who did what to which object, with what result, and when. Append-only. */
@Entity({ name: 'audit_record' })
@Index('ix_audit_record_occurred_at', ['occurredAt', 'id'])
@Index('ix_audit_record_object', ['objectType', 'objectId', 'occurredAt'])
export class AuditRecordEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_audit_record' })
  id!: string;

  /** Token subject of the caller, or "anonymous". */
  @Column({ name: 'actor', type: 'varchar', length: 128 })
  actor!: string;

  @Column({ name: 'actor_roles', type: 'varchar', length: 200 })
  actorRoles!: string;

  /** The RPC, e.g. "CertifyParticipant". */
  @Column({ name: 'action', type: 'varchar', length: 100 })
  action!: string;

  @Column({ name: 'object_type', type: 'varchar', length: 50 })
  objectType!: string;

  @Column({ name: 'object_id', type: 'varchar', length: 128 })
  objectId!: string;

  /** "OK", or the error's kind and reason, e.g. "FAILED_PRECONDITION:INVALID_TRANSITION". */
  @Column({ name: 'result', type: 'varchar', length: 100 })
  result!: string;

  /** Caller's address as the server saw it. */
  @Column({ name: 'peer', type: 'varchar', length: 128 })
  peer!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;
}
