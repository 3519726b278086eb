import { MigrationInterface, QueryRunner } from "typeorm";

export class ReportSignatures1796700000000 implements MigrationInterface {
    name = 'ReportSignatures1796700000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "report_signing_key" (
                "key_id" character(64) NOT NULL,
                "node_code" character varying(8) NOT NULL,
                "public_key" bytea NOT NULL,
                "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_report_signing_key" PRIMARY KEY ("key_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_report_signing_key_node_code" ON "report_signing_key" ("node_code", "registered_at")
        `);
        await queryRunner.query(`
            ALTER TABLE "received_report"
            ADD "signing_key_id" character varying(64) NOT NULL DEFAULT ''
        `);
        await queryRunner.query(`
            ALTER TABLE "report_signing_key"
            ADD CONSTRAINT "fk_report_signing_key_node" FOREIGN KEY ("node_code") REFERENCES "national_node"("node_code") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "report_signing_key" DROP CONSTRAINT "fk_report_signing_key_node"
        `);
        await queryRunner.query(`
            ALTER TABLE "received_report" DROP COLUMN "signing_key_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_report_signing_key_node_code"
        `);
        await queryRunner.query(`
            DROP TABLE "report_signing_key"
        `);
    }

}
