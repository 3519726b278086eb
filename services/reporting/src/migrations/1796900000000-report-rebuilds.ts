import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RebuildReport: a rejected report can be superseded by a rebuilt one for the same day or special
 * request, so the one-per-day and one-per-request indexes leave superseded reports out.
 */
export class ReportRebuilds1796900000000 implements MigrationInterface {
  name = 'ReportRebuilds1796900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "node_report" ADD "superseded_by" uuid`);
    await queryRunner.query(`ALTER TABLE "node_report" ADD "supersedes" uuid`);
    await queryRunner.query(`DROP INDEX "public"."uq_node_report_daily_date"`);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_node_report_daily_date" ON "node_report" ("report_date")
            WHERE "kind" = 1 AND "state" <> 'superseded'
        `);
    await queryRunner.query(`DROP INDEX "public"."uq_node_report_special_request"`);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_node_report_special_request" ON "node_report" ("special_request_id")
            WHERE "kind" = 2 AND "state" <> 'superseded'
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    const superseded = (await queryRunner.query(
      `SELECT count(*)::int AS n FROM "node_report" WHERE "state" = 'superseded'`,
    )) as Array<{ n: number }>;
    // Their rows (and attempts) are the record of what was sent: never dropped to go back.
    if (superseded[0].n > 0)
      throw new Error(
        `${superseded[0].n} superseded report(s) exist: the rebuilds cannot be undone by a migration`,
      );
    await queryRunner.query(`DROP INDEX "public"."uq_node_report_special_request"`);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_node_report_special_request" ON "node_report" ("special_request_id")
            WHERE "kind" = 2
        `);
    await queryRunner.query(`DROP INDEX "public"."uq_node_report_daily_date"`);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_node_report_daily_date" ON "node_report" ("report_date")
            WHERE "kind" = 1
        `);
    await queryRunner.query(`ALTER TABLE "node_report" DROP COLUMN "supersedes"`);
    await queryRunner.query(`ALTER TABLE "node_report" DROP COLUMN "superseded_by"`);
  }
}
