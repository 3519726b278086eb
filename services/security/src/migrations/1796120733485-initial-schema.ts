import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1796120733485 implements MigrationInterface {
    name = 'InitialSchema1796120733485'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "attack_event" (
                "security_event_id" uuid NOT NULL,
                "source" character varying(140) NOT NULL,
                "event_id" character varying(128) NOT NULL,
                "attack_time" TIMESTAMP WITH TIME ZONE NOT NULL,
                "attacker_ip" character varying(45) NOT NULL,
                "target_ip" character varying(45) NOT NULL,
                "attack_method" character varying(200) NOT NULL,
                "attacked_asset_type" character varying(200) NOT NULL,
                "ongoing" boolean NOT NULL,
                "description" character varying(4000) NOT NULL,
                "handling_status" character varying(16) NOT NULL,
                "severity" character varying(16) NOT NULL,
                "pool_id" character varying(64) NOT NULL,
                "participant_id" character varying(128) NOT NULL,
                "state" character varying(16) NOT NULL,
                "version" integer NOT NULL,
                "note" character varying(1000) NOT NULL,
                "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "uq_attack_event_source_event" UNIQUE ("source", "event_id"),
                CONSTRAINT "pk_attack_event" PRIMARY KEY ("security_event_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_attack_event_source_recorded" ON "attack_event" ("source", "recorded_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_attack_event_pool" ON "attack_event" ("pool_id", "attack_time")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_attack_event_participant" ON "attack_event" ("participant_id", "attack_time")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_attack_event_updated" ON "attack_event" ("updated_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_attack_event_time" ON "attack_event" ("attack_time", "security_event_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "endpoint" (
                "endpoint_id" uuid NOT NULL,
                "participant_id" character varying(128) NOT NULL,
                "address" character varying(300) NOT NULL,
                "purpose" character varying(200) NOT NULL,
                "created_by" character varying(128) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "next_check_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "last_result" jsonb,
                CONSTRAINT "uq_endpoint_participant_address" UNIQUE ("participant_id", "address"),
                CONSTRAINT "pk_endpoint" PRIMARY KEY ("endpoint_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_endpoint_due" ON "endpoint" ("next_check_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_endpoint_created" ON "endpoint" ("created_at", "endpoint_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_endpoint_participant" ON "endpoint" ("participant_id", "created_at", "endpoint_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "finding" (
                "finding_id" uuid NOT NULL,
                "asset_kind" character varying(16) NOT NULL,
                "asset_id" character varying(128) NOT NULL,
                "dedupe_key" character varying(64) NOT NULL,
                "tool" character varying(200) NOT NULL,
                "rule_id" character varying(1000) NOT NULL,
                "title" character varying(500) NOT NULL,
                "message" character varying(4000) NOT NULL,
                "severity" character varying(16) NOT NULL,
                "cvss_score" double precision,
                "cve_ids" text array NOT NULL,
                "location" character varying(1200) NOT NULL,
                "help_uri" character varying(2000) NOT NULL,
                "endpoint_id" uuid,
                "status" character varying(16) NOT NULL,
                "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "due_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "accepted_until" TIMESTAMP WITH TIME ZONE,
                "version" integer NOT NULL,
                "note" character varying(1000) NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "uq_finding_asset_key" UNIQUE ("asset_kind", "asset_id", "dedupe_key"),
                CONSTRAINT "pk_finding" PRIMARY KEY ("finding_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_finding_status_due" ON "finding" ("status", "due_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_finding_first_seen" ON "finding" ("first_seen_at", "finding_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_finding_asset" ON "finding" ("asset_kind", "asset_id", "status")
        `);
        await queryRunner.query(`
            CREATE TABLE "known_pool" (
                "pool_id" character varying(64) NOT NULL,
                "provider_participant_id" character varying(128) NOT NULL,
                "security_level" smallint NOT NULL,
                CONSTRAINT "pk_known_pool" PRIMARY KEY ("pool_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_known_pool_provider" ON "known_pool" ("provider_participant_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "participant_standing" (
                "participant_id" character varying(128) NOT NULL,
                "kind" character varying(32) NOT NULL,
                "state" character varying(16) NOT NULL,
                "version" integer NOT NULL,
                CONSTRAINT "pk_participant_standing" PRIMARY KEY ("participant_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "quarantine" (
                "quarantine_id" uuid NOT NULL,
                "subject_kind" character varying(16) NOT NULL,
                "subject_id" character varying(128) NOT NULL,
                "state" character varying(16) NOT NULL,
                "reason" character varying(500) NOT NULL,
                "actor" character varying(128) NOT NULL,
                "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "version" integer NOT NULL,
                CONSTRAINT "pk_quarantine" PRIMARY KEY ("quarantine_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_quarantine_started" ON "quarantine" ("started_at", "quarantine_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_quarantine_open_subject" ON "quarantine" ("subject_kind", "subject_id")
            WHERE "state" <> 'lifted'
        `);
        await queryRunner.query(`
            CREATE TABLE "risk" (
                "subject_kind" character varying(16) NOT NULL,
                "subject_id" character varying(128) NOT NULL,
                "score" smallint NOT NULL,
                "level" character varying(16) NOT NULL,
                "factors" jsonb NOT NULL,
                "security_level_cap" smallint,
                "quarantined" boolean NOT NULL,
                "version" integer NOT NULL,
                "assessed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_risk" PRIMARY KEY ("subject_kind", "subject_id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_risk_score" ON "risk" ("score", "subject_kind", "subject_id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."ix_risk_score"
        `);
        await queryRunner.query(`
            DROP TABLE "risk"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_quarantine_open_subject"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_quarantine_started"
        `);
        await queryRunner.query(`
            DROP TABLE "quarantine"
        `);
        await queryRunner.query(`
            DROP TABLE "participant_standing"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_known_pool_provider"
        `);
        await queryRunner.query(`
            DROP TABLE "known_pool"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_finding_asset"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_finding_first_seen"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_finding_status_due"
        `);
        await queryRunner.query(`
            DROP TABLE "finding"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_endpoint_participant"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_endpoint_created"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_endpoint_due"
        `);
        await queryRunner.query(`
            DROP TABLE "endpoint"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_attack_event_time"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_attack_event_updated"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_attack_event_participant"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_attack_event_pool"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_attack_event_source_recorded"
        `);
        await queryRunner.query(`
            DROP TABLE "attack_event"
        `);
    }

}
