import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes `audit_log` append-only and ready for its hash chain: the settlement and chain columns,
 * their indexes, and a trigger that refuses DELETE, TRUNCATE and every UPDATE except the one the
 * chainer makes (a record's chain position and hash set once, nothing else changed). Records of
 * before this migration are linked like new ones. Never edit it once released.
 */
export class AuditChain1796800000000 implements MigrationInterface {
  name = 'AuditChain1796800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_log"
      ADD "settles_id" uuid,
      ADD "chain_position" bigint,
      ADD "chain_hash" character(64)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_audit_log_chain_position" ON "audit_log" ("chain_position")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_log_unchained" ON "audit_log" ("sequence") WHERE chain_position IS NULL`,
    );
    await queryRunner.query(`CREATE FUNCTION audit_log_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL
           AND NEW.chain_hash IS NOT NULL
           AND (to_jsonb(NEW) - 'chain_position' - 'chain_hash')
             = (to_jsonb(OLD) - 'chain_position' - 'chain_hash') THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'a record is written once and linked into the hash chain once';
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_log_append_only
      BEFORE UPDATE OR DELETE ON "audit_log"
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await queryRunner.query(`CREATE TRIGGER audit_log_no_truncate
      BEFORE TRUNCATE ON "audit_log"
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_log_no_truncate ON "audit_log"`);
    await queryRunner.query(`DROP TRIGGER audit_log_append_only ON "audit_log"`);
    await queryRunner.query(`DROP FUNCTION audit_log_append_only()`);
    await queryRunner.query(`DROP INDEX "ix_audit_log_unchained"`);
    await queryRunner.query(`DROP INDEX "uq_audit_log_chain_position"`);
    await queryRunner.query(`ALTER TABLE "audit_log"
      DROP COLUMN "chain_hash", DROP COLUMN "chain_position", DROP COLUMN "settles_id"`);
  }
}
