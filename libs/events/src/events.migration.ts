import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates `outbox_event` and `processed_event`. A service lists this class among its own migrations
 * (and OutboxEventEntity / ProcessedEventEntity among its entities), so generated migrations see
 * these tables as already matching. Never edit it once released; add a new migration instead.
 */
export class CreateEventTables1763900000000 implements MigrationInterface {
  name = 'CreateEventTables1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "outbox_event" (
      "id" uuid NOT NULL,
      "type" character varying(255) NOT NULL,
      "source" character varying(100) NOT NULL,
      "schema_version" integer NOT NULL,
      "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "data" jsonb NOT NULL,
      "trace_context" jsonb,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "published_at" TIMESTAMP WITH TIME ZONE,
      "attempts" integer NOT NULL DEFAULT 0,
      "last_error" text,
      CONSTRAINT "pk_outbox_event" PRIMARY KEY ("id"))`);
    await queryRunner.query(
      `CREATE INDEX "ix_outbox_event_unpublished" ON "outbox_event" ("created_at") WHERE published_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_outbox_event_published_at" ON "outbox_event" ("published_at")`,
    );
    await queryRunner.query(`CREATE TABLE "processed_event" (
      "consumer" character varying(100) NOT NULL,
      "event_id" uuid NOT NULL,
      "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "pk_processed_event" PRIMARY KEY ("consumer", "event_id"))`);
    await queryRunner.query(
      `CREATE INDEX "ix_processed_event_processed_at" ON "processed_event" ("processed_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "processed_event"`);
    await queryRunner.query(`DROP TABLE "outbox_event"`);
  }
}
