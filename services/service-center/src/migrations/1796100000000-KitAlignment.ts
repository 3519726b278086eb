import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The service kit (issue 6): per-aggregate versions carried by events; request ids move from
 * columns of their own (unique across callers) to the platform's `idempotency_key` table (unique per
 * caller), carried over with a NULL fingerprint, which matches on the operation alone; the audit
 * trail moves from `audit_record` to the platform's `audit_log`. Runs after the platform's
 * migrations (1796000000000, 1796000000100), whose tables it fills.
 */
export class KitAlignment1796100000000 implements MigrationInterface {
  name = 'KitAlignment1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Versions: one per event an aggregate has had so far.
    await queryRunner.query(`ALTER TABLE "participant" ADD "version" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(
      `UPDATE "participant" p SET "version" = GREATEST(1, (SELECT count(*) FROM "certification_event" e WHERE e."participant_id" = p."id"))`,
    );
    await queryRunner.query(`ALTER TABLE "participant" ALTER COLUMN "version" DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE "qualification" ADD "version" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(
      `UPDATE "qualification" SET "version" = 1 + ("revoked_at" IS NOT NULL)::int + ("expiry_recorded_at" IS NOT NULL)::int`,
    );
    await queryRunner.query(`ALTER TABLE "qualification" ALTER COLUMN "version" DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE "api_key" ADD "version" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`UPDATE "api_key" SET "version" = 2 WHERE "state" = 2`);
    await queryRunner.query(`ALTER TABLE "api_key" ALTER COLUMN "version" DROP DEFAULT`);

    // Request ids into idempotency keys, scoped to who sent them. Self-registrations (no token) are
    // not carried over: their keys could only match on the operation (no fingerprint was kept), and
    // in the shared anonymous scope that would answer a stranger's guessed request id with the
    // registrant's record.
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT CASE WHEN "request_id" = 'install:bootstrap-operator' THEN 'install' ELSE "created_by" END,
             CASE WHEN "request_id" = 'install:bootstrap-operator' THEN 'bootstrap-operator' ELSE "request_id" END,
             CASE WHEN "request_id" = 'install:bootstrap-operator' THEN 'BootstrapOperator' ELSE 'CreateParticipant' END,
             NULL, "id"::text, "created_at"
        FROM "participant" WHERE "created_by" <> 'anonymous' ON CONFLICT DO NOTHING`);
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT "granted_by", "request_id", 'GrantResaleQualification', NULL, "id"::text, "created_at"
        FROM "qualification" ON CONFLICT DO NOTHING`);
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT "created_by", "rotation_request_id", 'RotateApiKey', NULL, "id"::text, "created_at"
        FROM "api_key" WHERE "rotation_request_id" IS NOT NULL ON CONFLICT DO NOTHING`);
    // The rotating operator was never recorded: such keys are kept under a scope no caller has.
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT 'unknown-operator', "rotation_request_id", 'RotateSigningKey', NULL, "kid", "created_at"
        FROM "signing_key" WHERE "rotation_request_id" IS NOT NULL ON CONFLICT DO NOTHING`);
    await queryRunner.query(`DROP INDEX "public"."uq_participant_request_id"`);
    await queryRunner.query(`ALTER TABLE "participant" DROP COLUMN "request_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_qualification_request_id"`);
    await queryRunner.query(`ALTER TABLE "qualification" DROP COLUMN "request_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_api_key_rotation_request_id"`);
    await queryRunner.query(`ALTER TABLE "api_key" DROP COLUMN "rotation_request_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_signing_key_rotation_request_id"`);
    await queryRunner.query(`ALTER TABLE "signing_key" DROP COLUMN "rotation_request_id"`);

    // Consumers keep projections of participants ordered by version, which older events lacked:
    // announce every participant (but the operators) once more, as it is now, at a new version.
    await queryRunner.query(
      `UPDATE "participant" SET "version" = "version" + 1 WHERE "kind" <> 6`,
    );
    await queryRunner.query(`INSERT INTO "outbox_event" ("id", "type", "source", "schema_version", "occurred_at", "data", "trace_context")
      SELECT gen_random_uuid(), 'cinode.participant.participant.updated', 'service-center', 1, now(),
             jsonb_build_object(
               'participantId', "id",
               'version', "version",
               'kind', (ARRAY['COMPUTE_PROVIDER','RESELLER','APPLICATION_PROVIDER','LINE_PROVIDER','USER','OPERATOR'])["kind"],
               'state', (ARRAY['SUBMITTED','UNDER_REVIEW','CERTIFIED','REJECTED','SUSPENDED','REVOKED'])["state"],
               'previousState', (ARRAY['SUBMITTED','UNDER_REVIEW','CERTIFIED','REJECTED','SUSPENDED','REVOKED'])["state"],
               'legalName', "name",
               'creditCode', "organization"->>'creditCode',
               'reason', 'announced again at the upgrade to versioned events',
               'actor', 'system:upgrade'),
             NULL
        FROM "participant" WHERE "kind" <> 6 ORDER BY "created_at"`);
    await queryRunner.query(`SELECT pg_notify('outbox_event', '')`);

    // The old trail's records, oldest first so their sequence follows time. The RPC path was not
    // kept, only the method's name; failures were "KIND:REASON" and nothing then committed.
    await queryRunner.query(`INSERT INTO "audit_log" ("id", "service", "method", "object_type", "object_id", "actor",
        "actor_roles", "tenant", "request_id", "peer", "outcome", "reason", "committed", "occurred_at", "duration_ms", "trace_id")
      SELECT "id", 'service-center', "action", "object_type", "object_id",
             CASE WHEN "actor" = 'anonymous' THEN '' ELSE "actor" END, "actor_roles", '', '', "peer",
             split_part("result", ':', 1), split_part("result", ':', 2), "result" = 'OK', "occurred_at", 0, ''
        FROM "audit_record" ORDER BY "occurred_at", "id"`);
    await queryRunner.query(`DROP TABLE "audit_record"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_record" ("id" uuid NOT NULL, "actor" character varying(128) NOT NULL, "actor_roles" character varying(200) NOT NULL, "action" character varying(100) NOT NULL, "object_type" character varying(50) NOT NULL, "object_id" character varying(128) NOT NULL, "result" character varying(100) NOT NULL, "peer" character varying(128) NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "pk_audit_record" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_record_object" ON "audit_record" ("object_type", "object_id", "occurred_at")`);
    await queryRunner.query(`CREATE INDEX "ix_audit_record_occurred_at" ON "audit_record" ("occurred_at", "id")`);
    await queryRunner.query(`ALTER TABLE "signing_key" ADD "rotation_request_id" character varying(80)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_signing_key_rotation_request_id" ON "signing_key" ("rotation_request_id")`);
    await queryRunner.query(`ALTER TABLE "api_key" ADD "rotation_request_id" character varying(80)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_api_key_rotation_request_id" ON "api_key" ("rotation_request_id")`);
    await queryRunner.query(`ALTER TABLE "qualification" ADD "request_id" character varying(80)`);
    await queryRunner.query(`UPDATE "qualification" SET "request_id" = "id"::text`);
    await queryRunner.query(`ALTER TABLE "qualification" ALTER COLUMN "request_id" SET NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_qualification_request_id" ON "qualification" ("request_id")`);
    await queryRunner.query(`ALTER TABLE "participant" ADD "request_id" character varying(80)`);
    await queryRunner.query(`UPDATE "participant" SET "request_id" = "id"::text`);
    await queryRunner.query(`ALTER TABLE "participant" ALTER COLUMN "request_id" SET NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_participant_request_id" ON "participant" ("request_id")`);
    await queryRunner.query(`ALTER TABLE "api_key" DROP COLUMN "version"`);
    await queryRunner.query(`ALTER TABLE "qualification" DROP COLUMN "version"`);
    await queryRunner.query(`ALTER TABLE "participant" DROP COLUMN "version"`);
  }
}
