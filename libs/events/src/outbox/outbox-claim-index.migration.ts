import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The relay's claim reads the oldest due rows in (created_at, id) order. The index it replaces,
 * on created_at of every unpublished row, made Postgres sort the whole backlog (wide rows, on
 * disk past work_mem) for each round of a few hundred, so a backlog slowed the relay that had to
 * work it off. This one returns the rows in claim order and leaves parked rows out (their own
 * partial index serves the parked count). Services list it after OutboxRowRetries
 * (EVENT_MIGRATIONS does).
 */
export class OutboxClaimIndex1796700000000 implements MigrationInterface {
  name = 'OutboxClaimIndex1796700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_outbox_event_claim" ON "outbox_event" ("created_at", "id") WHERE published_at IS NULL AND parked_at IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "public"."ix_outbox_event_unpublished"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_outbox_event_unpublished" ON "outbox_event" ("created_at") WHERE published_at IS NULL`,
    );
    await queryRunner.query(`DROP INDEX "public"."ix_outbox_event_claim"`);
  }
}
