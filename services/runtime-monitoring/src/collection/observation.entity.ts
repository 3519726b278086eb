import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Something a consumer or sampler observed, waiting to be folded into the one-minute series. Rows
 * are only inserted (no two writers contend on a series row) and deleted by the fold that counted
 * them, in the same transaction.
 */
@Entity({ name: 'observation' })
export class ObservationEntity {
  @PrimaryGeneratedColumn({
    name: 'observation_id',
    type: 'bigint',
    primaryKeyConstraintName: 'pk_observation',
  })
  observationId!: string;

  @Column({ name: 'domain', type: 'varchar', length: 16 })
  domain!: string;

  @Column({ name: 'metric', type: 'varchar', length: 64 })
  metric!: string;

  @Column({ name: 'kind', type: 'varchar', length: 8 })
  kind!: string;

  @Column({ name: 'region_code', type: 'varchar', length: 16 })
  regionCode!: string;

  @Column({ name: 'accelerator', type: 'varchar', length: 64 })
  accelerator!: string;

  @Column({ name: 'service', type: 'varchar', length: 64 })
  service!: string;

  @Column({ name: 'kind_label', type: 'varchar', length: 64 })
  kindLabel!: string;

  @Column({ name: 'observed_at', type: 'timestamptz' })
  observedAt!: Date;

  /** The observed amount (1 per event for counters, a level, a duration in ms). */
  @Column({ name: 'value', type: 'double precision' })
  value!: number;

  /** How many events or samples `value` stands for (a scrape's latency sum covers many calls). */
  @Column({ name: 'weight', type: 'bigint' })
  weight!: string;
}
