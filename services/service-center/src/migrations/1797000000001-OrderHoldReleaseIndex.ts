import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The recovery pass's index of cancelled and refused orders whose hold was not yet seen given
 * back. Orders that ended before `hold_released_at` existed are taken as given back: the paths
 * that ended them released their holds, and the holds of refused orders were never confirmed
 * (they expired at resource aggregation), so asking about each of them would only put the
 * history ahead of the orders that need it.
 *
 * Outside a transaction, and CONCURRENTLY: a plain CREATE INDEX would hold a SHARE lock, blocking
 * every order written, for the whole scan of the table. A build that failed half-way leaves an
 * invalid index behind, so one left by an earlier attempt is dropped first.
 */
export class OrderHoldReleaseIndex1797000000001 implements MigrationInterface {
  name = 'OrderHoldReleaseIndex1797000000001';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE "market_order" SET "hold_released_at" = "state_changed_at"
         WHERE "hold_id" IS NOT NULL AND "hold_released_at" IS NULL
           AND "state" IN ('cancelled', 'refused')`,
    );
    await queryRunner.query(
      `DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_market_order_hold_unreleased"`,
    );
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY "ix_market_order_hold_unreleased" ON "market_order" ("state_changed_at") WHERE "hold_id" IS NOT NULL AND "hold_released_at" IS NULL AND "state" IN ('cancelled', 'refused')`,
    );
  }

  /** A rollback (development, tests) may run inside a transaction: plain statements here. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "public"."ix_market_order_hold_unreleased"`);
  }
}
