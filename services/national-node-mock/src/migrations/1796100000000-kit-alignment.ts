import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The service kit (issue 6): the mock's writes, idempotent on natural keys, now go through the
 * platform's `idempotency_key` table (created by 1796000000000). The keys of what was received
 * before are carried over with the same fingerprints the service computes: the stored content
 * hashes of filings and reports, and for nodes the hash of `{"nodeType":..,"regionCode":".."}`
 * (content-hash.ts: keys sorted, no spaces).
 */
export class KitAlignment1796100000000 implements MigrationInterface {
  name = 'KitAlignment1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT 'national', 'node:' || "node_key", 'RegisterNode',
             encode(sha256(convert_to('{"nodeType":' || "node_type" || ',"regionCode":"' || "region_code" || '"}', 'UTF8')), 'hex'),
             "node_code", "registered_at"
        FROM "national_node" ON CONFLICT DO NOTHING`);
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT 'national', 'filing:' || "identifier", 'FileIdentifier', "content_sha256", "identifier", "filed_at"
        FROM "identifier_filing" ON CONFLICT DO NOTHING`);
    await queryRunner.query(`INSERT INTO "idempotency_key" ("scope", "request_id", "operation", "fingerprint", "object_id", "created_at")
      SELECT 'national', 'report:' || "report_id", 'SubmitReport', "content_sha256", "report_id", "received_at"
        FROM "received_report" ON CONFLICT DO NOTHING`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM "idempotency_key" WHERE "scope" = 'national' AND "operation" IN ('RegisterNode', 'FileIdentifier', 'SubmitReport')`,
    );
  }
}
