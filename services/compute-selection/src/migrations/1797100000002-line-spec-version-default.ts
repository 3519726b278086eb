import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `spec_version` starts at 1 in the database too, not only in this version's code: a replica of
 * the version before LineSpecVersion1797000000000 that is still serving while a rollout replaces
 * it registers lines without naming the column, and without a default those registrations failed
 * on NOT NULL. (Such a replica's UpdateLine does not count its change; the next one that does
 * counts from there.)
 */
export class LineSpecVersionDefault1797100000002 implements MigrationInterface {
  name = 'LineSpecVersionDefault1797100000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "line" ALTER COLUMN "spec_version" SET DEFAULT '1'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "line" ALTER COLUMN "spec_version" DROP DEFAULT`);
  }
}
