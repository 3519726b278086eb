import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `spec_version`: the count of a line provider's own changes, apart from `version` (which orders'
 * holds and filings move too), so UpdateLine can check it without racing the orders.
 */
export class LineSpecVersion1797000000000 implements MigrationInterface {
  name = 'LineSpecVersion1797000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "line" ADD "spec_version" bigint`);
    // What is known of a line's history: its version, an upper bound of its provider's changes.
    await queryRunner.query(`UPDATE "line" SET "spec_version" = "version"`);
    await queryRunner.query(`ALTER TABLE "line" ALTER COLUMN "spec_version" SET NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "line" DROP COLUMN "spec_version"`);
  }
}
