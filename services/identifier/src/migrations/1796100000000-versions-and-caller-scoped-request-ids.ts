import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moves the identifier service onto the platform's kit:
 * - `identifier.version`: 1 at issue, one more per state change since. An identifier issued
 *   earlier gets the number its history implies (issuing records two transitions; every later
 *   transition is one change).
 * - Request ids move to the platform's `idempotency_key` (scope = the caller that issued, request
 *   id = what follows `<issued_by>:` in the old key, no fingerprint: such a key matches a retry by
 *   its operation alone), then the old column and its index go.
 * - `participant_projection` is ordered by the participant's event version instead of event time,
 *   and keeps the certified legal name and credit code. Existing rows keep their state and kind in
 *   the contract's upper-case names, with version 0 so that any versioned event replaces them.
 */
export class VersionsAndCallerScopedRequestIds1796100000000 implements MigrationInterface {
  name = 'VersionsAndCallerScopedRequestIds1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "identifier" ADD "version" integer`);
    await queryRunner.query(
      `UPDATE "identifier" i SET "version" = GREATEST(1,
         (SELECT count(*) FROM "identifier_transition" t WHERE t."identifier" = i."identifier") - 1)`,
    );
    await queryRunner.query(`ALTER TABLE "identifier" ALTER COLUMN "version" SET NOT NULL`);

    await queryRunner.query(
      `INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
       SELECT "issued_by", substr("idempotency_key", length("issued_by") + 2), 'IssueIdentifier', NULL,
              "identifier", "issued_at"
         FROM "identifier"
        WHERE "idempotency_key" IS NOT NULL
          AND left("idempotency_key", length("issued_by") + 1) = "issued_by" || ':'
          AND length("idempotency_key") > length("issued_by") + 1
       ON CONFLICT ("scope", "request_id") DO NOTHING`,
    );
    await queryRunner.query(`DROP INDEX "public"."uq_identifier_idempotency_key"`);
    await queryRunner.query(`ALTER TABLE "identifier" DROP COLUMN "idempotency_key"`);

    await queryRunner.query(`ALTER TABLE "participant_projection" ADD "version" integer`);
    await queryRunner.query(
      `UPDATE "participant_projection"
          SET "version" = 0,
              "state" = upper(regexp_replace("state", '^participant_state_', '', 'i')),
              "kind" = upper(regexp_replace("kind", '^participant_kind_', '', 'i'))`,
    );
    await queryRunner.query(
      `ALTER TABLE "participant_projection" ALTER COLUMN "version" SET NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "participant_projection" ADD "legal_name" character varying(200)`,
    );
    await queryRunner.query(
      `ALTER TABLE "participant_projection" ADD "credit_code" character varying(18)`,
    );
    await queryRunner.query(`ALTER TABLE "participant_projection" DROP COLUMN "event_time"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The event time is gone; now() makes every row older than any event still to come.
    await queryRunner.query(
      `ALTER TABLE "participant_projection" ADD "event_time" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(
      `ALTER TABLE "participant_projection" ALTER COLUMN "event_time" DROP DEFAULT`,
    );
    await queryRunner.query(`ALTER TABLE "participant_projection" DROP COLUMN "credit_code"`);
    await queryRunner.query(`ALTER TABLE "participant_projection" DROP COLUMN "legal_name"`);
    await queryRunner.query(`ALTER TABLE "participant_projection" DROP COLUMN "version"`);
    await queryRunner.query(`UPDATE "participant_projection" SET "state" = lower("state")`);

    await queryRunner.query(`ALTER TABLE "identifier" ADD "idempotency_key" character varying(200)`);
    await queryRunner.query(
      `UPDATE "identifier" i SET "idempotency_key" = k."scope" || ':' || k."request_id"
         FROM "idempotency_key" k
        WHERE k."operation" = 'IssueIdentifier' AND k."object_id" = i."identifier"
          AND k."scope" = i."issued_by"`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_identifier_idempotency_key" ON "identifier" ("idempotency_key") WHERE idempotency_key IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "identifier" DROP COLUMN "version"`);
  }
}
