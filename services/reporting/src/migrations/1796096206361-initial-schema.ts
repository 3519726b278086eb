import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1796096206361 implements MigrationInterface {
    name = 'InitialSchema1796096206361'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "node_report" (
                "report_id" uuid NOT NULL,
                "kind" smallint NOT NULL,
                "report_date" date NOT NULL,
                "report_window" character varying(16) NOT NULL,
                "state" character varying(16) NOT NULL,
                "period_start" TIMESTAMP WITH TIME ZONE,
                "period_end" TIMESTAMP WITH TIME ZONE,
                "generated_at" TIMESTAMP WITH TIME ZONE,
                "schema_version" character varying(32) NOT NULL,
                "payload" bytea,
                "payload_sha256" character(64),
                "payload_size" integer NOT NULL DEFAULT '0',
                "attempts" integer NOT NULL DEFAULT '0',
                "next_attempt_at" TIMESTAMP WITH TIME ZONE,
                "last_error" text NOT NULL DEFAULT '',
                "receipt_number" character varying(32),
                "received_at" TIMESTAMP WITH TIME ZONE,
                "delivered_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_node_report" PRIMARY KEY ("report_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_node_report_listing" ON "node_report" ("report_date", "report_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_node_report_due" ON "node_report" ("next_attempt_at")
            WHERE "state" = 'pending'
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_node_report_daily_date" ON "node_report" ("report_date")
            WHERE "kind" = 1
        `);
        await queryRunner.query(`
            CREATE TABLE "report_delivery_attempt" (
                "report_id" uuid NOT NULL,
                "attempt" integer NOT NULL,
                "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                "outcome" character varying(16) NOT NULL,
                "grpc_status" character varying(32) NOT NULL DEFAULT '',
                "error" text NOT NULL DEFAULT '',
                CONSTRAINT "pk_report_delivery_attempt" PRIMARY KEY ("report_id", "attempt")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "report_signing_key" (
                "key_id" character(64) NOT NULL,
                "public_key" bytea NOT NULL,
                "private_key_encrypted" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "registered_at" TIMESTAMP WITH TIME ZONE,
                "node_code" character varying(8),
                CONSTRAINT "pk_report_signing_key" PRIMARY KEY ("key_id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "report_delivery_attempt"
            ADD CONSTRAINT "fk_report_delivery_attempt_report" FOREIGN KEY ("report_id") REFERENCES "node_report"("report_id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "report_delivery_attempt" DROP CONSTRAINT "fk_report_delivery_attempt_report"
        `);
        await queryRunner.query(`
            DROP TABLE "report_signing_key"
        `);
        await queryRunner.query(`
            DROP TABLE "report_delivery_attempt"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_node_report_daily_date"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_node_report_due"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_node_report_listing"
        `);
        await queryRunner.query(`
            DROP TABLE "node_report"
        `);
    }

}
