import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets a report update its pool in place (a heap-only tuple update): no indexed column changes and
 * the page has room for the new version. Before, `last_reported_at`, which every report sets, was
 * the second column of the liveness sweep's index, so every report wrote a new entry into each of
 * the pool's four indexes. The sweep now finds candidates by liveness alone and checks the time on
 * the rows (a scan of the table: about 30-40 ms for 100,000 online pools, every
 * SWEEP_INTERVAL_MS), and the table leaves 30% of each page free for the next version of its
 * rows. In the ingest bench the pool update went from 82 to 39-54 µs a snapshot in the database.
 * (The minute history keeps its default: it is mostly appended to, and free room on its pages
 * would stay empty once their minutes are over.)
 *
 * The indexes are built and dropped CONCURRENTLY, outside a transaction, so reports are not
 * blocked. The fill factor applies to pages written from now on: an existing node's pool pages get
 * the room as they are rewritten.
 */
export class ResourcePoolReportsHot1797100000001 implements MigrationInterface {
  name = 'ResourcePoolReportsHot1797100000001';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_pool_liveness"`);
    await queryRunner.query(`CREATE INDEX CONCURRENTLY "ix_pool_liveness" ON "pool" ("liveness")`);
    await queryRunner.query(
      `DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_pool_liveness_reported"`,
    );
    await queryRunner.query(`ALTER TABLE "pool" SET (fillfactor = 70)`);
  }

  /** A rollback (development, tests) may run inside a transaction: plain statements here. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "pool" RESET (fillfactor)`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "ix_pool_liveness_reported" ON "pool" ("liveness", "last_reported_at")`,
    );
    await queryRunner.query(`DROP INDEX IF EXISTS "public"."ix_pool_liveness"`);
  }
}
