import { MigrationInterface, QueryRunner } from "typeorm";

export class ResourcePoolRisk1796120880717 implements MigrationInterface {
    name = 'ResourcePoolRisk1796120880717'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "pool_risk" (
                "pool_id" character varying(64) NOT NULL,
                "security_level_cap" smallint,
                "quarantined" boolean NOT NULL,
                "version" bigint NOT NULL,
                CONSTRAINT "pk_pool_risk" PRIMARY KEY ("pool_id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "pool"
            ADD "security_level_cap" smallint
        `);
        await queryRunner.query(`
            ALTER TABLE "pool"
            ADD "quarantined" boolean NOT NULL DEFAULT false
        `);
        await queryRunner.query(`
            ALTER TABLE "pool"
            ADD "risk_version" bigint NOT NULL DEFAULT '0'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "pool" DROP COLUMN "risk_version"
        `);
        await queryRunner.query(`
            ALTER TABLE "pool" DROP COLUMN "quarantined"
        `);
        await queryRunner.query(`
            ALTER TABLE "pool" DROP COLUMN "security_level_cap"
        `);
        await queryRunner.query(`
            DROP TABLE "pool_risk"
        `);
    }

}
