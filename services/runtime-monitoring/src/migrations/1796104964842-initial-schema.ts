import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1796104964842 implements MigrationInterface {
    name = 'InitialSchema1796104964842'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "alert_rule" (
                "rule_id" character varying(64) NOT NULL,
                "domain" character varying(16) NOT NULL,
                "metric" character varying(64) NOT NULL,
                "region_code" character varying(16) NOT NULL,
                "accelerator" character varying(64) NOT NULL,
                "service" character varying(64) NOT NULL,
                "comparison" character varying(8) NOT NULL,
                "threshold" double precision NOT NULL,
                "for_minutes" integer NOT NULL,
                "severity" character varying(16) NOT NULL,
                "description" character varying(500) NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_alert_rule" PRIMARY KEY ("rule_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "alert" (
                "alert_id" uuid NOT NULL,
                "rule_id" character varying(64) NOT NULL,
                "series_key" character varying(256) NOT NULL,
                "domain" character varying(16) NOT NULL,
                "metric" character varying(64) NOT NULL,
                "region_code" character varying(16) NOT NULL,
                "accelerator" character varying(64) NOT NULL,
                "service" character varying(64) NOT NULL,
                "kind_label" character varying(64) NOT NULL,
                "severity" character varying(16) NOT NULL,
                "value" double precision NOT NULL,
                "threshold" double precision NOT NULL,
                "raised_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "resolved_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "pk_alert" PRIMARY KEY ("alert_id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "ux_alert_firing" ON "alert" ("rule_id", "series_key")
            WHERE resolved_at IS NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_alert_raised_at" ON "alert" ("raised_at", "alert_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "demand_seen" (
                "demand_id" uuid NOT NULL,
                "submitted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_demand_seen" PRIMARY KEY ("demand_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_demand_seen_submitted_at" ON "demand_seen" ("submitted_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "allocation_seen" (
                "allocation_id" uuid NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "running_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "pk_allocation_seen" PRIMARY KEY ("allocation_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_allocation_seen_created_at" ON "allocation_seen" ("created_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "participant_seen" (
                "participant_id" uuid NOT NULL,
                "version" integer NOT NULL,
                "kind" character varying(32) NOT NULL,
                "state" character varying(16) NOT NULL,
                CONSTRAINT "pk_participant_seen" PRIMARY KEY ("participant_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_participant_seen_kind_state" ON "participant_seen" ("kind", "state")
        `);
        await queryRunner.query(`
            CREATE TABLE "observation" (
                "observation_id" BIGSERIAL NOT NULL,
                "domain" character varying(16) NOT NULL,
                "metric" character varying(64) NOT NULL,
                "kind" character varying(8) NOT NULL,
                "region_code" character varying(16) NOT NULL,
                "accelerator" character varying(64) NOT NULL,
                "service" character varying(64) NOT NULL,
                "kind_label" character varying(64) NOT NULL,
                "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "value" double precision NOT NULL,
                "weight" bigint NOT NULL,
                CONSTRAINT "pk_observation" PRIMARY KEY ("observation_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "series_point" (
                "resolution" character varying(8) NOT NULL,
                "domain" character varying(16) NOT NULL,
                "metric" character varying(64) NOT NULL,
                "region_code" character varying(16) NOT NULL,
                "accelerator" character varying(64) NOT NULL,
                "service" character varying(64) NOT NULL,
                "kind_label" character varying(64) NOT NULL,
                "bucket_start" TIMESTAMP WITH TIME ZONE NOT NULL,
                "kind" character varying(8) NOT NULL,
                "count" bigint NOT NULL,
                "sum" double precision NOT NULL,
                "min" double precision NOT NULL,
                "max" double precision NOT NULL,
                "last" double precision NOT NULL,
                "last_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_series_point" PRIMARY KEY (
                    "resolution",
                    "domain",
                    "metric",
                    "region_code",
                    "accelerator",
                    "service",
                    "kind_label",
                    "bucket_start"
                )
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_series_point_bucket" ON "series_point" ("resolution", "bucket_start")
        `);
        await queryRunner.query(`
            CREATE TABLE "pool_state" (
                "pool_id" character varying(64) NOT NULL,
                "version" bigint NOT NULL,
                "state" character varying(16) NOT NULL,
                "region_code" character varying(16) NOT NULL,
                "accelerator" character varying(64) NOT NULL,
                "cpu_cores_total" bigint NOT NULL,
                "cpu_cores_free" bigint NOT NULL,
                "gpu_cards_total" bigint NOT NULL,
                "gpu_cards_free" bigint NOT NULL,
                "npu_cards_total" bigint NOT NULL,
                "npu_cards_free" bigint NOT NULL,
                "fp16_tflops_total" double precision NOT NULL,
                "fp16_tflops_free" double precision NOT NULL,
                "fault_since" TIMESTAMP WITH TIME ZONE,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_pool_state" PRIMARY KEY ("pool_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_pool_state_state" ON "pool_state" ("state")
        `);
        await queryRunner.query(`
            CREATE TABLE "feed_event" (
                "cursor" bigint NOT NULL,
                "event_id" uuid NOT NULL,
                "domain" character varying(16) NOT NULL,
                "type" character varying(128) NOT NULL,
                "region_code" character varying(16) NOT NULL,
                "object_id" character varying(128) NOT NULL,
                "summary" character varying(500) NOT NULL,
                "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_feed_event" PRIMARY KEY ("cursor")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_feed_event_occurred_at" ON "feed_event" ("occurred_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_feed_event_event_id" ON "feed_event" ("event_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "feed_head" (
                "head_id" smallint NOT NULL,
                "last_cursor" bigint NOT NULL,
                CONSTRAINT "pk_feed_head" PRIMARY KEY ("head_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "scrape_state" (
                "service" character varying(64) NOT NULL,
                "counter" character varying(64) NOT NULL,
                "value" double precision NOT NULL,
                "read_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_scrape_state" PRIMARY KEY ("service", "counter")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "scrape_state"
        `);
        await queryRunner.query(`
            DROP TABLE "feed_head"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_feed_event_event_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_feed_event_occurred_at"
        `);
        await queryRunner.query(`
            DROP TABLE "feed_event"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_pool_state_state"
        `);
        await queryRunner.query(`
            DROP TABLE "pool_state"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_series_point_bucket"
        `);
        await queryRunner.query(`
            DROP TABLE "series_point"
        `);
        await queryRunner.query(`
            DROP TABLE "observation"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_participant_seen_kind_state"
        `);
        await queryRunner.query(`
            DROP TABLE "participant_seen"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_allocation_seen_created_at"
        `);
        await queryRunner.query(`
            DROP TABLE "allocation_seen"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_demand_seen_submitted_at"
        `);
        await queryRunner.query(`
            DROP TABLE "demand_seen"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_alert_raised_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ux_alert_firing"
        `);
        await queryRunner.query(`
            DROP TABLE "alert"
        `);
        await queryRunner.query(`
            DROP TABLE "alert_rule"
        `);
    }

}
