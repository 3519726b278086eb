import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The last value read of each counter of each scraped service, to turn totals into increments. */
@Entity({ name: 'scrape_state' })
export class ScrapeStateEntity {
  @PrimaryColumn({
    name: 'service',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_scrape_state',
  })
  service!: string;

  @PrimaryColumn({
    name: 'counter',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_scrape_state',
  })
  counter!: string;

  @Column({ name: 'value', type: 'double precision' })
  value!: number;

  @Column({ name: 'read_at', type: 'timestamptz' })
  readAt!: Date;
}
