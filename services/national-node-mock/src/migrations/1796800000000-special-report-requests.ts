import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Generated (db-migration-generate.mjs), renamed to sort after the hand-stamped 1796700000000, and
 * reviewed. The sequence is added by hand: it numbers the special request ids inside the INSERT.
 */
export class SpecialReportRequests1796800000000 implements MigrationInterface {
    name = 'SpecialReportRequests1796800000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE SEQUENCE "special_report_request_seq" AS bigint MINVALUE 1 NO CYCLE
        `);
        await queryRunner.query(`
            CREATE TABLE "special_report_request" (
                "special_request_id" character varying(64) NOT NULL,
                "node_code" character varying(8) NOT NULL,
                "report_types" smallint array NOT NULL,
                "period_start" TIMESTAMP WITH TIME ZONE NOT NULL,
                "period_end" TIMESTAMP WITH TIME ZONE NOT NULL,
                "reason" character varying(200) NOT NULL,
                "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "deadline" TIMESTAMP WITH TIME ZONE NOT NULL,
                "answered_report_id" uuid,
                "answered_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "pk_special_report_request" PRIMARY KEY ("special_request_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_special_report_request_open" ON "special_report_request" ("node_code", "issued_at", "special_request_id")
            WHERE "answered_at" IS NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_special_report_request_node_issued" ON "special_report_request" ("node_code", "issued_at", "special_request_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "special_report_request"
            ADD CONSTRAINT "fk_special_report_request_node" FOREIGN KEY ("node_code") REFERENCES "national_node"("node_code") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "special_report_request" DROP CONSTRAINT "fk_special_report_request_node"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_special_report_request_node_issued"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_special_report_request_open"
        `);
        await queryRunner.query(`
            DROP TABLE "special_report_request"
        `);
        await queryRunner.query(`
            DROP SEQUENCE "special_report_request_seq"
        `);
    }

}
