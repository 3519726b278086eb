import { MigrationInterface, QueryRunner } from "typeorm";

export class ResourceInitialSchema1796085577792 implements MigrationInterface {
    name = 'ResourceInitialSchema1796085577792'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "hold" (
                "hold_id" uuid NOT NULL,
                "pool_id" character varying(64) NOT NULL,
                "order_reference" character varying(128) NOT NULL,
                "resources" jsonb NOT NULL,
                "state" character varying(16) NOT NULL,
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_by" character varying(128) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_hold" PRIMARY KEY ("hold_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_hold_state_expires" ON "hold" ("state", "expires_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_hold_pool_state" ON "hold" ("pool_id", "state")
        `);
        await queryRunner.query(`
            CREATE TABLE "pool" (
                "pool_id" character varying(64) NOT NULL,
                "provider_participant_id" character varying(128) NOT NULL,
                "name" character varying(200) NOT NULL,
                "pool_class" character varying(1) NOT NULL,
                "site" character varying(64) NOT NULL,
                "region_code" character varying(6) NOT NULL,
                "accelerators" jsonb NOT NULL,
                "security_level" smallint NOT NULL,
                "datacenter_tier" smallint NOT NULL,
                "pue" double precision NOT NULL,
                "renewable_ratio" double precision NOT NULL,
                "gflops_per_watt" double precision NOT NULL,
                "price" jsonb NOT NULL,
                "filing" character varying(16) NOT NULL,
                "liveness" character varying(16) NOT NULL,
                "inventory" jsonb,
                "inventory_sequence" bigint NOT NULL,
                "observed_at" TIMESTAMP WITH TIME ZONE,
                "last_reported_at" TIMESTAMP WITH TIME ZONE,
                "held" jsonb NOT NULL,
                "version" bigint NOT NULL,
                "contract_version" smallint NOT NULL,
                "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_pool" PRIMARY KEY ("pool_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_pool_liveness_reported" ON "pool" ("liveness", "last_reported_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_pool_registered" ON "pool" ("registered_at", "pool_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_pool_provider" ON "pool" (
                "provider_participant_id",
                "registered_at",
                "pool_id"
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "inventory_minute" (
                "pool_id" character varying(64) NOT NULL,
                "minute" TIMESTAMP WITH TIME ZONE NOT NULL,
                "sequence" bigint NOT NULL,
                "inventory" jsonb NOT NULL,
                CONSTRAINT "pk_inventory_minute" PRIMARY KEY ("pool_id", "minute")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_inventory_minute_minute" ON "inventory_minute" ("minute")
        `);
        await queryRunner.query(`
            CREATE TABLE "pool_identifier" (
                "identifier" character varying(64) NOT NULL,
                "filing" character varying(16) NOT NULL,
                "version" bigint NOT NULL,
                CONSTRAINT "pk_pool_identifier" PRIMARY KEY ("identifier")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "pool_identifier"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_inventory_minute_minute"
        `);
        await queryRunner.query(`
            DROP TABLE "inventory_minute"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_pool_provider"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_pool_registered"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_pool_liveness_reported"
        `);
        await queryRunner.query(`
            DROP TABLE "pool"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_hold_pool_state"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_hold_state_expires"
        `);
        await queryRunner.query(`
            DROP TABLE "hold"
        `);
    }

}
