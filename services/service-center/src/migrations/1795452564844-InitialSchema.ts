import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1795452564844 implements MigrationInterface {
    name = 'InitialSchema1795452564844'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "participant" (
                "id" uuid NOT NULL,
                "kind" smallint NOT NULL,
                "user_category" smallint NOT NULL,
                "name" character varying(200) NOT NULL,
                "state" smallint NOT NULL,
                "organization" jsonb,
                "individual" jsonb,
                "request_id" character varying(80) NOT NULL,
                "created_by" character varying(128) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_participant" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_participant_kind_state" ON "participant" ("kind", "state")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_participant_created_at" ON "participant" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_participant_request_id" ON "participant" ("request_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "api_key" (
                "id" uuid NOT NULL,
                "participant_id" uuid NOT NULL,
                "prefix" character(8) NOT NULL,
                "secret_hash" character(64) NOT NULL,
                "state" smallint NOT NULL,
                "created_by" character varying(128) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "last_used_at" TIMESTAMP WITH TIME ZONE,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "revoke_reason" character varying(500),
                "rotation_request_id" character varying(80),
                CONSTRAINT "pk_api_key" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_api_key_participant" ON "api_key" ("participant_id", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_api_key_rotation_request_id" ON "api_key" ("rotation_request_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_api_key_prefix" ON "api_key" ("prefix")
        `);
        await queryRunner.query(`
            CREATE TABLE "audit_record" (
                "id" uuid NOT NULL,
                "actor" character varying(128) NOT NULL,
                "actor_roles" character varying(200) NOT NULL,
                "action" character varying(100) NOT NULL,
                "object_type" character varying(50) NOT NULL,
                "object_id" character varying(128) NOT NULL,
                "result" character varying(100) NOT NULL,
                "peer" character varying(128) NOT NULL,
                "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_audit_record" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_audit_record_object" ON "audit_record" ("object_type", "object_id", "occurred_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_audit_record_occurred_at" ON "audit_record" ("occurred_at", "id")
        `);
        await queryRunner.query(`
            CREATE TABLE "certification_event" (
                "id" uuid NOT NULL,
                "participant_id" uuid NOT NULL,
                "from_state" smallint NOT NULL,
                "to_state" smallint NOT NULL,
                "actor" character varying(128) NOT NULL,
                "reason" character varying(500) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_certification_event" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_certification_event_participant" ON "certification_event" ("participant_id", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE TABLE "qualification" (
                "id" uuid NOT NULL,
                "participant_id" uuid NOT NULL,
                "request_id" character varying(80) NOT NULL,
                "valid_from" TIMESTAMP WITH TIME ZONE NOT NULL,
                "valid_until" TIMESTAMP WITH TIME ZONE NOT NULL,
                "granted_by" character varying(128) NOT NULL,
                "grant_reason" character varying(500) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "revoked_by" character varying(128),
                "revoke_reason" character varying(500),
                "expiry_recorded_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "pk_qualification" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_qualification_pending_expiry" ON "qualification" ("valid_until")
            WHERE "revoked_at" IS NULL
                AND "expiry_recorded_at" IS NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_qualification_created_at" ON "qualification" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_qualification_participant" ON "qualification" ("participant_id", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_qualification_request_id" ON "qualification" ("request_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "signing_key" (
                "kid" character varying(64) NOT NULL,
                "state" character varying(16) NOT NULL,
                "public_jwk" jsonb NOT NULL,
                "private_jwk_encrypted" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "demoted_at" TIMESTAMP WITH TIME ZONE,
                "retire_after" TIMESTAMP WITH TIME ZONE,
                "rotation_request_id" character varying(80),
                CONSTRAINT "pk_signing_key" PRIMARY KEY ("kid")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_signing_key_rotation_request_id" ON "signing_key" ("rotation_request_id")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_signing_key_single_active" ON "signing_key" ("state")
            WHERE "state" = 'active'
        `);
        await queryRunner.query(`
            CREATE TABLE "token_attempt_failure" (
                "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
                "scope" character varying(16) NOT NULL,
                "subject" character varying(128) NOT NULL,
                "failed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "pk_token_attempt_failure" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_token_attempt_failure_failed_at" ON "token_attempt_failure" ("failed_at")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_token_attempt_failure_subject" ON "token_attempt_failure" ("scope", "subject", "failed_at")
        `);
        await queryRunner.query(`
            ALTER TABLE "api_key"
            ADD CONSTRAINT "fk_api_key_participant" FOREIGN KEY ("participant_id") REFERENCES "participant"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "certification_event"
            ADD CONSTRAINT "fk_certification_event_participant" FOREIGN KEY ("participant_id") REFERENCES "participant"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "qualification"
            ADD CONSTRAINT "fk_qualification_participant" FOREIGN KEY ("participant_id") REFERENCES "participant"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "qualification" DROP CONSTRAINT "fk_qualification_participant"
        `);
        await queryRunner.query(`
            ALTER TABLE "certification_event" DROP CONSTRAINT "fk_certification_event_participant"
        `);
        await queryRunner.query(`
            ALTER TABLE "api_key" DROP CONSTRAINT "fk_api_key_participant"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_token_attempt_failure_subject"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_token_attempt_failure_failed_at"
        `);
        await queryRunner.query(`
            DROP TABLE "token_attempt_failure"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_signing_key_single_active"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_signing_key_rotation_request_id"
        `);
        await queryRunner.query(`
            DROP TABLE "signing_key"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_qualification_request_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_qualification_participant"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_qualification_created_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_qualification_pending_expiry"
        `);
        await queryRunner.query(`
            DROP TABLE "qualification"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_certification_event_participant"
        `);
        await queryRunner.query(`
            DROP TABLE "certification_event"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_audit_record_occurred_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_audit_record_object"
        `);
        await queryRunner.query(`
            DROP TABLE "audit_record"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_api_key_prefix"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_api_key_rotation_request_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_api_key_participant"
        `);
        await queryRunner.query(`
            DROP TABLE "api_key"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_participant_request_id"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_participant_created_at"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_participant_kind_state"
        `);
        await queryRunner.query(`
            DROP TABLE "participant"
        `);
    }

}
