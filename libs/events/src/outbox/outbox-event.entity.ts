import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TraceContext } from '../envelope';

/** One event waiting for (or done with) publication; written in the transaction of the state change. */
@Entity({ name: 'outbox_event' })
// The relay's claim order, over the rows it may claim (OutboxClaimIndex1796700000000).
@Index('ix_outbox_event_claim', ['createdAt', 'id'], {
  where: 'published_at IS NULL AND parked_at IS NULL',
})
@Index('ix_outbox_event_published_at', ['publishedAt'])
@Index('ix_outbox_event_parked', ['parkedAt'], { where: 'parked_at IS NOT NULL' })
export class OutboxEventEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_outbox_event' })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  type!: string;

  @Column({ type: 'varchar', length: 100 })
  source!: string;

  @Column({ name: 'schema_version', type: 'integer' })
  schemaVersion!: number;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  /** The event's data as JSON text, written once by the publisher and sent as is by the relay. */
  @Column({ type: 'text' })
  data!: string;

  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext!: TraceContext | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** A failed row's next attempt: it waits on its own delay, the others go on. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  /** Set when the row was set aside after its last allowed attempt; requeueing clears it. */
  @Column({ name: 'parked_at', type: 'timestamptz', nullable: true })
  parkedAt!: Date | null;
}
