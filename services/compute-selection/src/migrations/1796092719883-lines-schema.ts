import { MigrationInterface, QueryRunner } from "typeorm";

export class LinesSchema1796092719883 implements MigrationInterface {
    name = 'LinesSchema1796092719883'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "line" (
                "line_id" character varying(64) NOT NULL,
                "provider_participant_id" character varying(128) NOT NULL,
                "name" character varying(200) NOT NULL,
                "a_region_code" character varying(6) NOT NULL,
                "a_site" character varying(64) NOT NULL,
                "b_region_code" character varying(6) NOT NULL,
                "b_site" character varying(64) NOT NULL,
                "bandwidth_mbps_total" bigint NOT NULL,
                "bandwidth_mbps_free" bigint NOT NULL,
                "latency_ms" integer NOT NULL,
                "price_fen_per_hour" bigint NOT NULL,
                "availability" double precision NOT NULL,
                "out_of_service" boolean NOT NULL,
                "filing" character varying(16) NOT NULL,
                "version" bigint NOT NULL,
                "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_line" PRIMARY KEY ("line_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_line_registered" ON "line" ("registered_at", "line_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_line_provider" ON "line" (
                "provider_participant_id",
                "registered_at",
                "line_id"
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "line_identifier" (
                "identifier" character varying(64) NOT NULL,
                "filing" character varying(16) NOT NULL,
                "version" bigint NOT NULL,
                CONSTRAINT "pk_line_identifier" PRIMARY KEY ("identifier")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "line_identifier"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_line_provider"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_line_registered"
        `);
        await queryRunner.query(`
            DROP TABLE "line"
        `);
    }

}
