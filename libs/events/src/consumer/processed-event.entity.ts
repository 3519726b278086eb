import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Marks an event as handled by one consumer; the primary key is what makes handlers idempotent. */
@Entity({ name: 'processed_event' })
@Index('ix_processed_event_processed_at', ['processedAt'])
export class ProcessedEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 100, primaryKeyConstraintName: 'pk_processed_event' })
  consumer!: string;

  @PrimaryColumn({ name: 'event_id', type: 'uuid', primaryKeyConstraintName: 'pk_processed_event' })
  eventId!: string;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
