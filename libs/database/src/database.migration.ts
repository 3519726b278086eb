import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates `idempotency_key`. Services list it among their migrations (and IdempotencyKeyEntity
 * among their entities). Never edit it once released; add a new migration instead.
 */
export class CreateIdempotencyKeys1796000000000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "idempotency_key" (
      "scope" character varying(128) NOT NULL,
      "request_id" character varying(200) NOT NULL,
      "operation" character varying(100) NOT NULL,
      "fingerprint" character(64),
      "object_id" character varying(128),
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "pk_idempotency_key" PRIMARY KEY ("scope", "request_id"))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_key"`);
  }
}
