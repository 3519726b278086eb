import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One remembered request id: who sent it, for what, and what it created. */
@Entity({ name: 'idempotency_key' })
export class IdempotencyKeyEntity {
  /** The caller: token subject, or `anonymous`. */
  @PrimaryColumn({
    name: 'scope',
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'pk_idempotency_key',
  })
  scope!: string;

  @PrimaryColumn({
    name: 'request_id',
    type: 'varchar',
    length: 200,
    primaryKeyConstraintName: 'pk_idempotency_key',
  })
  requestId!: string;

  @Column({ name: 'operation', type: 'varchar', length: 100 })
  operation!: string;

  /** SHA-256 (hex) of the request's content; null for keys carried over from older tables. */
  @Column({ name: 'fingerprint', type: 'char', length: 64, nullable: true })
  fingerprint!: string | null;

  /** Id of what the request created; null only inside the creating transaction. */
  @Column({ name: 'object_id', type: 'varchar', length: 128, nullable: true })
  objectId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
