import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One failed IssueToken attempt (or one under way), counted per source address and per key prefix
 * from that address in a sliding window.
 * In Postgres rather than memory so every replica sees the same counts (docs/adr/0001).
 */
@Entity({ name: 'token_attempt_failure' })
@Index('ix_token_attempt_failure_subject', ['scope', 'subject', 'failedAt'])
@Index('ix_token_attempt_failure_failed_at', ['failedAt'])
export class TokenAttemptFailureEntity {
  @PrimaryGeneratedColumn('identity', {
    name: 'id',
    type: 'bigint',
    primaryKeyConstraintName: 'pk_token_attempt_failure',
  })
  id!: string;

  /** "address" (subject: the address) or "prefix" (subject: `<prefix>@<address>`). */
  @Column({ name: 'scope', type: 'varchar', length: 16 })
  scope!: string;

  @Column({ name: 'subject', type: 'varchar', length: 128 })
  subject!: string;

  @Column({ name: 'failed_at', type: 'timestamptz' })
  failedAt!: Date;
}
