import { MigrationInterface, QueryRunner } from "typeorm";

export class OrderHoldRelease1797000000000 implements MigrationInterface {
    name = 'OrderHoldRelease1797000000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "market_order"
            ADD "hold_released_at" TIMESTAMP WITH TIME ZONE
        `);
        // Orders that ended before: completed and failed ones' holds end with their tasks at
        // resource aggregation, and are never asked about; cancelled and refused ones are asked
        // about once by the recovery pass.
        await queryRunner.query(`
            CREATE INDEX "ix_market_order_hold_unreleased" ON "market_order" ("state_changed_at")
            WHERE "hold_id" IS NOT NULL
                AND "hold_released_at" IS NULL
                AND "state" IN ('cancelled', 'refused')
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."ix_market_order_hold_unreleased"
        `);
        await queryRunner.query(`
            ALTER TABLE "market_order" DROP COLUMN "hold_released_at"
        `);
    }

}
