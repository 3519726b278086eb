import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates `audit_log`. Services list it among their migrations (the platform schema does). Never
 * edit it once released; add a new migration instead.
 */
export class CreateAuditLog1796000000100 implements MigrationInterface {
  name = 'CreateAuditLog1796000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_log" (
      "id" uuid NOT NULL,
      "sequence" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
      "service" character varying(64) NOT NULL,
      "method" character varying(200) NOT NULL,
      "object_type" character varying(50) NOT NULL,
      "object_id" character varying(128) NOT NULL,
      "actor" character varying(128) NOT NULL,
      "actor_roles" character varying(200) NOT NULL,
      "tenant" character varying(128) NOT NULL,
      "request_id" character varying(128) NOT NULL,
      "peer" character varying(128) NOT NULL,
      "outcome" character varying(32) NOT NULL,
      "reason" character varying(100) NOT NULL,
      "committed" boolean NOT NULL,
      "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "duration_ms" integer NOT NULL,
      "trace_id" character varying(32) NOT NULL,
      CONSTRAINT "pk_audit_log" PRIMARY KEY ("id"))`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_audit_log_sequence" ON "audit_log" ("sequence")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_log_occurred_at" ON "audit_log" ("occurred_at", "sequence")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_log_object" ON "audit_log" ("object_type", "object_id", "sequence")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_log_actor" ON "audit_log" ("actor", "sequence")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_log"`);
  }
}
