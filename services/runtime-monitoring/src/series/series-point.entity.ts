import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A bigint column read back as a JavaScript number (counts stay far below 2^53). */
export const bigintNumber = () => ({
  to: (value: number) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
});

/**
 * One point of one series: (resolution, domain, metric, dimensions, bucket) -> count, sum, min,
 * max. One-minute points are folded from observations in batches; hour and day points are
 * recomputed from the finer ones.
 */
@Entity({ name: 'series_point' })
@Index('ix_series_point_bucket', ['resolution', 'bucketStart'])
export class SeriesPointEntity {
  @PrimaryColumn({
    name: 'resolution',
    type: 'varchar',
    length: 8,
    primaryKeyConstraintName: 'pk_series_point',
  })
  resolution!: string;

  @PrimaryColumn({
    name: 'domain',
    type: 'varchar',
    length: 16,
    primaryKeyConstraintName: 'pk_series_point',
  })
  domain!: string;

  @PrimaryColumn({
    name: 'metric',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_series_point',
  })
  metric!: string;

  @PrimaryColumn({
    name: 'region_code',
    type: 'varchar',
    length: 16,
    primaryKeyConstraintName: 'pk_series_point',
  })
  regionCode!: string;

  @PrimaryColumn({
    name: 'accelerator',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_series_point',
  })
  accelerator!: string;

  @PrimaryColumn({
    name: 'service',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_series_point',
  })
  service!: string;

  @PrimaryColumn({
    name: 'kind_label',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_series_point',
  })
  kindLabel!: string;

  @PrimaryColumn({
    name: 'bucket_start',
    type: 'timestamptz',
    primaryKeyConstraintName: 'pk_series_point',
  })
  bucketStart!: Date;

  /** counter, gauge or summary. */
  @Column({ name: 'kind', type: 'varchar', length: 8 })
  kind!: string;

  @Column({ name: 'count', type: 'bigint', transformer: bigintNumber() })
  count!: number;

  @Column({ name: 'sum', type: 'double precision' })
  sum!: number;

  @Column({ name: 'min', type: 'double precision' })
  min!: number;

  @Column({ name: 'max', type: 'double precision' })
  max!: number;

  /** The newest value seen in the bucket (for levels: where they stand now). */
  @Column({ name: 'last', type: 'double precision' })
  last!: number;

  @Column({ name: 'last_at', type: 'timestamptz' })
  lastAt!: Date;
}
