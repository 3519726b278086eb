import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../series/series-point.entity';

/**
 * The regulators' feed: events of the node and alerts, each with a cursor assigned in commit order
 * (FeedRepository.append), so a reader that has seen cursor N has seen every entry below it.
 */
@Entity({ name: 'feed_event' })
@Index('ix_feed_event_event_id', ['eventId'])
@Index('ix_feed_event_occurred_at', ['occurredAt'])
export class FeedEventEntity {
  @PrimaryColumn({
    name: 'cursor',
    type: 'bigint',
    transformer: bigintNumber(),
    primaryKeyConstraintName: 'pk_feed_event',
  })
  cursor!: number;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'domain', type: 'varchar', length: 16 })
  domain!: string;

  @Column({ name: 'type', type: 'varchar', length: 128 })
  type!: string;

  @Column({ name: 'region_code', type: 'varchar', length: 16 })
  regionCode!: string;

  @Column({ name: 'object_id', type: 'varchar', length: 128 })
  objectId!: string;

  @Column({ name: 'summary', type: 'varchar', length: 500 })
  summary!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}

/** One row: the last cursor handed out. Its row lock orders the feed's writers. */
@Entity({ name: 'feed_head' })
export class FeedHeadEntity {
  @PrimaryColumn({ name: 'head_id', type: 'smallint', primaryKeyConstraintName: 'pk_feed_head' })
  headId!: number;

  @Column({ name: 'last_cursor', type: 'bigint', transformer: bigintNumber() })
  lastCursor!: number;
}
