import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index for the sweep that fails allocations their providers never started (pending past
 * ALLOCATION_START_TIMEOUT_SECONDS): it finds them by state and age instead of reading every
 * allocation. Built CONCURRENTLY, outside a transaction, so orders are not blocked meanwhile.
 */
export class ResourceAllocationStartTimeout1797200000000 implements MigrationInterface {
  name = 'ResourceAllocationStartTimeout1797200000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A build interrupted before leaves an invalid index of this name: start again.
    await queryRunner.query(
      `DROP INDEX CONCURRENTLY IF EXISTS "public"."ix_allocation_state_created"`,
    );
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY "ix_allocation_state_created" ON "allocation" ("state", "created_at")`,
    );
  }

  /** A rollback (development, tests) may run inside a transaction: a plain statement here. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "public"."ix_allocation_state_created"`);
  }
}
