import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox keeps each event's data as the JSON text the publisher wrote, no longer as jsonb.
 * Nothing reads inside it: the publisher serialises the data once, and the relay splices that text
 * into the message body. As jsonb, Postgres parsed every event on insert and printed it again on
 * every claim, which for the resource events (up to 200 whole pools, a quarter of a megabyte) was
 * most of the outbox's cost in the database: in the ingest bench the claim went from about 53 ms a
 * round to 12, and the inserts took a quarter less.
 *
 * The change rewrites the table under an exclusive lock: it takes longer the more published rows
 * the relay keeps (seven days of them). A replica of the previous version works against the new
 * column while a rollout replaces it: its `::jsonb` parameters are assigned to text, and its
 * `data::text` reads text.
 */
export class OutboxDataText1797100000000 implements MigrationInterface {
  name = 'OutboxDataText1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "outbox_event" ALTER COLUMN "data" TYPE text USING "data"::text`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "outbox_event" ALTER COLUMN "data" TYPE jsonb USING "data"::jsonb`,
    );
  }
}
