import { MigrationInterface, QueryRunner } from "typeorm";

export class OrderLineHold1796900000000 implements MigrationInterface {
    name = 'OrderLineHold1796900000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "market_order"
            ADD "line_hold_id" uuid
        `);
        await queryRunner.query(`
            ALTER TABLE "market_order"
            ADD "line_released_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_market_order_line_unreleased" ON "market_order" ("state_changed_at")
            WHERE "line_hold_id" IS NOT NULL
                AND "line_released_at" IS NULL
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_market_order_line_hold" ON "market_order" ("line_hold_id")
            WHERE "line_hold_id" IS NOT NULL
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."ux_market_order_line_hold"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_market_order_line_unreleased"
        `);
        await queryRunner.query(`
            ALTER TABLE "market_order" DROP COLUMN "line_released_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "market_order" DROP COLUMN "line_hold_id"
        `);
    }

}
