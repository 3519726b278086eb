import { MigrationInterface, QueryRunner } from "typeorm";

export class LineHolds1796900000000 implements MigrationInterface {
    name = 'LineHolds1796900000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "line_hold" (
                "hold_id" uuid NOT NULL,
                "line_id" character varying(64) NOT NULL,
                "order_reference" character varying(128) NOT NULL,
                "bandwidth_mbps" bigint NOT NULL,
                "duration_hours" integer NOT NULL,
                "state" character varying(16) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_by" character varying(128) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "detail" character varying(500) NOT NULL DEFAULT '',
                CONSTRAINT "pk_line_hold" PRIMARY KEY ("hold_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_line_hold_state_expires" ON "line_hold" ("state", "expires_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_line_hold_line_state" ON "line_hold" ("line_id", "state")
        `);
        await queryRunner.query(`
            ALTER TABLE "line"
            ADD "bandwidth_mbps_reserved" bigint NOT NULL DEFAULT '0'
        `);
        // The default only fills the lines already there: the service always writes the column.
        await queryRunner.query(`
            ALTER TABLE "line"
            ALTER COLUMN "bandwidth_mbps_reserved" DROP DEFAULT
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "line" DROP COLUMN "bandwidth_mbps_reserved"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_line_hold_line_state"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_line_hold_state_expires"
        `);
        await queryRunner.query(`
            DROP TABLE "line_hold"
        `);
    }

}
