import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-row retry of the outbox: when a row's next attempt is due, and when it was parked after its
 * last allowed one. Services list it after CreateEventTables (EVENT_MIGRATIONS does).
 */
export class OutboxRowRetries1796300000000 implements MigrationInterface {
  name = 'OutboxRowRetries1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "outbox_event" ADD "next_attempt_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(`ALTER TABLE "outbox_event" ADD "parked_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `CREATE INDEX "ix_outbox_event_parked" ON "outbox_event" ("parked_at") WHERE parked_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_outbox_event_parked"`);
    await queryRunner.query(`ALTER TABLE "outbox_event" DROP COLUMN "parked_at"`);
    await queryRunner.query(`ALTER TABLE "outbox_event" DROP COLUMN "next_attempt_at"`);
  }
}
