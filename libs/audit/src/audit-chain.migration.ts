import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes `audit_log` append-only and ready for its hash chain: the settlement and chain columns,
 * their indexes, and a trigger that refuses DELETE, TRUNCATE, an INSERT of a linked record and
 * every UPDATE except the chainer's (a record's chain position — the one after the head — and hash
 * set once, nothing else changed); `audit_log_link` links a round's records in order. Records of
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
    await queryRunner.query(
      `ALTER TABLE "audit_log" ADD CONSTRAINT "ck_audit_log_chain_position" CHECK ("chain_position" >= 1)`,
    );
    // A record is written unlinked, and linked once, at the position after the chain's head (so
    // nothing can be parked outside the chain, or ahead of it); nothing else ever changes.
    await queryRunner.query(`CREATE FUNCTION audit_log_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.chain_position IS NULL AND NEW.chain_hash IS NULL THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION 'audit_log: a record is written unlinked'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL
           AND NEW.chain_hash IS NOT NULL
           AND NEW.chain_position = (SELECT COALESCE(max(chain_position), 0) + 1 FROM audit_log)
           AND (to_jsonb(NEW) - 'chain_position' - 'chain_hash')
             = (to_jsonb(OLD) - 'chain_position' - 'chain_hash') THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'a record is written once and linked into the hash chain once, after its head';
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_log_append_only
      BEFORE INSERT OR UPDATE OR DELETE ON "audit_log"
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    // The chainer's one statement per round: each link its own UPDATE, in position order, so the
    // trigger sees the head move record by record.
    await queryRunner.query(`CREATE FUNCTION audit_log_link(links jsonb) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE link record;
      BEGIN
        FOR link IN SELECT * FROM jsonb_to_recordset(links)
            AS v(id uuid, position bigint, hash character(64)) ORDER BY position LOOP
          UPDATE audit_log SET chain_position = link.position, chain_hash = link.hash
            WHERE id = link.id AND chain_position IS NULL;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'audit_log_link: record % is not waiting to be linked', link.id;
          END IF;
        END LOOP;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_log_no_truncate
      BEFORE TRUNCATE ON "audit_log"
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION audit_log_link(jsonb)`);
    await queryRunner.query(`DROP TRIGGER audit_log_no_truncate ON "audit_log"`);
    await queryRunner.query(`DROP TRIGGER audit_log_append_only ON "audit_log"`);
    await queryRunner.query(`DROP FUNCTION audit_log_append_only()`);
    await queryRunner.query(
      `ALTER TABLE "audit_log" DROP CONSTRAINT "ck_audit_log_chain_position"`,
    );
    await queryRunner.query(`DROP INDEX "ix_audit_log_unchained"`);
    await queryRunner.query(`DROP INDEX "uq_audit_log_chain_position"`);
    await queryRunner.query(`ALTER TABLE "audit_log"
      DROP COLUMN "chain_hash", DROP COLUMN "chain_position", DROP COLUMN "settles_id"`);
  }
}
