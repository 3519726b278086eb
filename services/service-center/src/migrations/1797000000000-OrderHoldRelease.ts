import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the pool hold of a cancelled or refused order was seen given back (`hold_released_at`).
 * A nullable column without a default changes no row, but ALTER TABLE still waits for every
 * transaction on `market_order` and holds up every one behind it while it waits: 10 s at most,
 * then the migration fails (and is run again at the next start) rather than stalling orders.
 */
export class OrderHoldRelease1797000000000 implements MigrationInterface {
  name = 'OrderHoldRelease1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '10s'`);
    await queryRunner.query(
      `ALTER TABLE "market_order" ADD "hold_released_at" TIMESTAMP WITH TIME ZONE`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "market_order" DROP COLUMN "hold_released_at"`);
  }
}
