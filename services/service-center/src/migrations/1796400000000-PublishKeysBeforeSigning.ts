import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 7: a rotated-in signing key is published (in the JWKS) before it signs, from
 * `activates_at` on. Existing keys keep NULL: they sign from their creation, as before. Expand only:
 * a pod of the previous release ignores the column.
 */
export class PublishKeysBeforeSigning1796400000000 implements MigrationInterface {
  name = 'PublishKeysBeforeSigning1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signing_key" ADD "activates_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "signing_key" DROP COLUMN "activates_at"`);
  }
}
