import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The relay's claim reads the oldest due rows in (created_at, id) order. The index it replaces,
 * on created_at of every unpublished row, made Postgres sort the whole backlog (wide rows, on
 * disk past work_mem) for each round of a few hundred, so a backlog slowed the relay that had to
 * work it off. This one returns the rows in claim order and leaves parked rows out (their own
 * partial index serves the parked count). Services list it after OutboxRowRetries
 * (EVENT_MIGRATIONS does).
 *
 * Built and dropped CONCURRENTLY, outside a transaction: the outbox is written by every change
 * and read by the relay, and a plain CREATE INDEX would hold its SHARE lock (blocking every
 * insert) for the whole scan of a table that keeps days of published rows. A build that failed
 * half-way leaves an invalid index behind, so one left by an earlier attempt is dropped first.
 */
export class OutboxClaimIndex1796700000000 implements MigrationInterface {
  name = 'OutboxClaimIndex1796700000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_outbox_event_claim"`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY "ix_outbox_event_claim" ON "outbox_event" ("created_at", "id") WHERE published_at IS NULL AND parked_at IS NULL`,
    );
    await queryRunner.query(
      `DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_outbox_event_unpublished"`,
    );
  }

  /** A rollback (development, tests) may run inside a transaction: plain statements here. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "ix_outbox_event_unpublished" ON "outbox_event" ("created_at") WHERE published_at IS NULL`,
    );
    await queryRunner.query(`DROP INDEX IF EXISTS "public"."ix_outbox_event_claim"`);
  }
}
