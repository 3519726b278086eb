import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Resource pools' live states for ResolveIdentifier (a projection of resource aggregation's pool
 * events). Its changes announce the identifier on `identifier_changed` with the triggers of
 * IdentifierChangeNotifications1796500000000, so the resolve cache drops a pool whose state moved.
 */
export class PoolLiveStates1796600000000 implements MigrationInterface {
  name = 'PoolLiveStates1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "pool_live_state" (
        "identifier" character varying(64) NOT NULL,
        "version" bigint NOT NULL,
        "state" character varying(16) NOT NULL,
        "reported" boolean NOT NULL,
        "cpu_cores_free" bigint NOT NULL,
        "gpu_cards_free" bigint NOT NULL,
        "npu_cards_free" bigint NOT NULL,
        "fp16_tflops_free" double precision NOT NULL,
        "fp32_tflops_free" double precision NOT NULL,
        "memory_gib_free" bigint NOT NULL,
        "storage_gib_free" bigint NOT NULL,
        "last_reported_at" TIMESTAMP WITH TIME ZONE,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_pool_live_state" PRIMARY KEY ("identifier")
      )`);
    await queryRunner.query(
      `CREATE TRIGGER "pool_live_state_changed" AFTER INSERT OR UPDATE OR DELETE ON "pool_live_state"
         FOR EACH ROW EXECUTE FUNCTION notify_identifier_changed()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "pool_live_state_truncated" AFTER TRUNCATE ON "pool_live_state"
         FOR EACH STATEMENT EXECUTE FUNCTION notify_identifiers_truncated()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "pool_live_state"`);
  }
}
