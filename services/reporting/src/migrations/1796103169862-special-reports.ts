import { MigrationInterface, QueryRunner } from "typeorm";

export class SpecialReports1796103169862 implements MigrationInterface {
    name = 'SpecialReports1796103169862'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "node_report"
            ADD "special_request_id" character varying(64) NOT NULL DEFAULT ''
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_node_report_special_request" ON "node_report" ("special_request_id")
            WHERE "kind" = 2
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."uq_node_report_special_request"
        `);
        await queryRunner.query(`
            ALTER TABLE "node_report" DROP COLUMN "special_request_id"
        `);
    }

}
