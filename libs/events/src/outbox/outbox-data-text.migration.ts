import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox keeps each event's data as the JSON text the publisher wrote, no longer as jsonb.
 * Nothing reads inside it: the publisher serialises the data once, and the relay splices that text
 * into the message body. As jsonb, Postgres parsed every event on insert and printed it again on
 * every claim, which for the resource events (up to 200 whole pools, a quarter of a megabyte) was
 * most of the outbox's cost in the database: in the ingest bench the claim went from about 53 ms a
 * round to 12, and the inserts took a quarter less.
 *
 * The change rewrites the table and its indexes under an exclusive lock, which blocks every
 * transaction that emits an event until it ends. So the published rows (kept only for seven days
 * of inspection, and for the resource events a quarter of a megabyte each) are deleted first,
 * which blocks no one, and the rewrite copies only the backlog still to publish. It waits at most
 * 10 s for its lock (a long transaction on the table fails the migration, to be run again, rather
 * than queue every writer behind it).
 *
 * In a rolling upgrade, a replica of the previous version keeps working against the new column if
 * it is 9a4f7e1 or later: its `::jsonb` parameters are assigned to text, and its claim reads
 * `data::text`. Older relays read `data` itself and would publish the text as a JSON string:
 * upgrade those through a version between.
 */
export class OutboxDataText1797100000000 implements MigrationInterface {
  name = 'OutboxDataText1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "outbox_event" WHERE "published_at" IS NOT NULL`);
    await queryRunner.query(`SET LOCAL lock_timeout = '10s'`);
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
