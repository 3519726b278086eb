import { MigrationInterface, QueryRunner } from "typeorm";

export class ResourceAllocations1796092539916 implements MigrationInterface {
    name = 'ResourceAllocations1796092539916'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "allocation" (
                "allocation_id" uuid NOT NULL,
                "pool_id" character varying(64) NOT NULL,
                "provider_participant_id" character varying(128) NOT NULL,
                "order_reference" character varying(128) NOT NULL,
                "resources" jsonb NOT NULL,
                "state" character varying(16) NOT NULL,
                "detail" character varying(500) NOT NULL,
                "version" bigint NOT NULL,
                "sequence" BIGSERIAL NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_allocation" PRIMARY KEY ("allocation_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_allocation_pool_state" ON "allocation" ("pool_id", "state")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_allocation_provider_sequence" ON "allocation" ("provider_participant_id", "sequence")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_allocation_sequence" ON "allocation" ("sequence")
        `);
        // Holds confirmed before allocations existed become allocations too, pending, so their
        // providers receive them and their capacity is returned when the task ends.
        await queryRunner.query(`
            INSERT INTO "allocation" (
                "allocation_id", "pool_id", "provider_participant_id", "order_reference",
                "resources", "state", "detail", "version", "created_at", "state_changed_at"
            )
            SELECT h."hold_id", h."pool_id", p."provider_participant_id", h."order_reference",
                h."resources", 'pending', '', 1, h."state_changed_at", h."state_changed_at"
            FROM "hold" h JOIN "pool" p ON p."pool_id" = h."pool_id"
            WHERE h."state" = 'confirmed'
            ORDER BY h."state_changed_at", h."hold_id"
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."ux_allocation_sequence"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_allocation_provider_sequence"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_allocation_pool_state"
        `);
        await queryRunner.query(`
            DROP TABLE "allocation"
        `);
    }

}
