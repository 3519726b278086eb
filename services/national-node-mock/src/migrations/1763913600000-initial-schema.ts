import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Generated from the entities with TypeORM's schema builder against an empty database, then
 * reviewed. The three sequences are added by hand: they back the node codes, filing numbers and
 * receipt numbers, which are assigned inside INSERT statements and never reused.
 */
export class InitialSchema1763913600000 implements MigrationInterface {
  name = 'InitialSchema1763913600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE "national_node_code_seq" AS integer MINVALUE 1 MAXVALUE 9999 NO CYCLE`);
    await queryRunner.query(`CREATE SEQUENCE "identifier_filing_seq" AS bigint MINVALUE 1 NO CYCLE`);
    await queryRunner.query(`CREATE SEQUENCE "received_report_seq" AS bigint MINVALUE 1 NO CYCLE`);
    await queryRunner.query(`CREATE TABLE "national_node" ("node_code" character varying(8) NOT NULL, "identifier_prefix" character varying(32) NOT NULL, "node_key" character varying(128) NOT NULL, "name" character varying(200) NOT NULL, "node_type" smallint NOT NULL, "region_code" character(6) NOT NULL, "operator_name" character varying(200) NOT NULL, "endpoint" character varying(512) NOT NULL, "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "pk_national_node" PRIMARY KEY ("node_code"))`);
    await queryRunner.query(`CREATE INDEX "ix_national_node_registered_at" ON "national_node" ("registered_at", "node_code")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_national_node_node_key" ON "national_node" ("node_key")`);
    await queryRunner.query(`CREATE TABLE "identifier_filing" ("identifier" character varying(128) NOT NULL, "filing_number" character varying(32) NOT NULL, "node_code" character varying(8) NOT NULL, "object_type" smallint NOT NULL, "object_name" character varying(200) NOT NULL, "owner_name" character varying(200) NOT NULL, "owner_credit_code" character varying(18) NOT NULL, "attributes" jsonb NOT NULL, "allocated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "filed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "content_sha256" character(64) NOT NULL, CONSTRAINT "pk_identifier_filing" PRIMARY KEY ("identifier"))`);
    await queryRunner.query(`CREATE INDEX "ix_identifier_filing_node_filed_at" ON "identifier_filing" ("node_code", "filed_at", "identifier")`);
    await queryRunner.query(`CREATE INDEX "ix_identifier_filing_filed_at" ON "identifier_filing" ("filed_at", "identifier")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_identifier_filing_filing_number" ON "identifier_filing" ("filing_number")`);
    await queryRunner.query(`CREATE TABLE "received_report" ("report_id" uuid NOT NULL, "node_code" character varying(8) NOT NULL, "kind" smallint NOT NULL, "special_request_id" character varying(64) NOT NULL, "period_start" TIMESTAMP WITH TIME ZONE NOT NULL, "period_end" TIMESTAMP WITH TIME ZONE NOT NULL, "generated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "schema_version" character varying(32) NOT NULL, "content_type" character varying(64) NOT NULL, "payload" bytea NOT NULL, "payload_size" integer NOT NULL, "payload_sha256" character(64) NOT NULL, "receipt_number" character varying(32) NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "content_sha256" character(64) NOT NULL, CONSTRAINT "pk_received_report" PRIMARY KEY ("report_id"))`);
    await queryRunner.query(`CREATE INDEX "ix_received_report_node_received_at" ON "received_report" ("node_code", "received_at", "report_id")`);
    await queryRunner.query(`CREATE INDEX "ix_received_report_received_at" ON "received_report" ("received_at", "report_id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_received_report_receipt_number" ON "received_report" ("receipt_number")`);
    await queryRunner.query(`ALTER TABLE "identifier_filing" ADD CONSTRAINT "fk_identifier_filing_node" FOREIGN KEY ("node_code") REFERENCES "national_node"("node_code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "received_report" ADD CONSTRAINT "fk_received_report_node" FOREIGN KEY ("node_code") REFERENCES "national_node"("node_code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "received_report" DROP CONSTRAINT "fk_received_report_node"`);
    await queryRunner.query(`ALTER TABLE "identifier_filing" DROP CONSTRAINT "fk_identifier_filing_node"`);
    await queryRunner.query(`DROP INDEX "public"."uq_received_report_receipt_number"`);
    await queryRunner.query(`DROP INDEX "public"."ix_received_report_received_at"`);
    await queryRunner.query(`DROP INDEX "public"."ix_received_report_node_received_at"`);
    await queryRunner.query(`DROP TABLE "received_report"`);
    await queryRunner.query(`DROP INDEX "public"."uq_identifier_filing_filing_number"`);
    await queryRunner.query(`DROP INDEX "public"."ix_identifier_filing_filed_at"`);
    await queryRunner.query(`DROP INDEX "public"."ix_identifier_filing_node_filed_at"`);
    await queryRunner.query(`DROP TABLE "identifier_filing"`);
    await queryRunner.query(`DROP INDEX "public"."uq_national_node_node_key"`);
    await queryRunner.query(`DROP INDEX "public"."ix_national_node_registered_at"`);
    await queryRunner.query(`DROP TABLE "national_node"`);
    await queryRunner.query(`DROP SEQUENCE "received_report_seq"`);
    await queryRunner.query(`DROP SEQUENCE "identifier_filing_seq"`);
    await queryRunner.query(`DROP SEQUENCE "national_node_code_seq"`);
  }
}
