import { MigrationInterface, QueryRunner } from "typeorm";

export class Market1796500000000 implements MigrationInterface {
    name = 'Market1796500000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "demand" (
                "id" uuid NOT NULL,
                "participant_id" uuid NOT NULL,
                "customer_reference" character varying(128) NOT NULL,
                "demand" bytea NOT NULL,
                "weights" bytea NOT NULL,
                "top_k" integer NOT NULL,
                "selection" bytea NOT NULL,
                "state" character varying(16) NOT NULL,
                "order_id" uuid,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_demand" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_demand_created_at" ON "demand" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_demand_participant" ON "demand" ("participant_id", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE TABLE "market_order" (
                "id" uuid NOT NULL,
                "demand_id" uuid NOT NULL,
                "participant_id" uuid NOT NULL,
                "customer_reference" character varying(128) NOT NULL,
                "pool_id" character varying(64) NOT NULL,
                "provider_participant_id" character varying(128) NOT NULL,
                "candidate" bytea NOT NULL,
                "hold_id" uuid,
                "state" character varying(16) NOT NULL,
                "detail" character varying(500) NOT NULL,
                "version" integer NOT NULL,
                "task_version" integer NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_market_order" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_market_order_hold" ON "market_order" ("hold_id")
            WHERE "hold_id" IS NOT NULL
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_market_order_active_demand" ON "market_order" ("demand_id")
            WHERE "state" IN ('placing', 'confirmed', 'running')
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_market_order_created_at" ON "market_order" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_market_order_participant" ON "market_order" ("participant_id", "created_at", "id")
        `);
        await queryRunner.query(`
            ALTER TABLE "market_order"
            ADD CONSTRAINT "fk_market_order_demand" FOREIGN KEY ("demand_id") REFERENCES "demand"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "market_order" DROP CONSTRAINT "fk_market_order_demand"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_market_order_participant"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_market_order_created_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ux_market_order_active_demand"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ux_market_order_hold"
        `);
        await queryRunner.query(`
            DROP TABLE "market_order"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_demand_participant"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_demand_created_at"
        `);
        await queryRunner.query(`
            DROP TABLE "demand"
        `);
    }

}
