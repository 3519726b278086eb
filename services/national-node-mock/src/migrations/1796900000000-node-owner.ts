import { MigrationInterface, QueryRunner } from "typeorm";

/** Generated (db-migration-generate.mjs), renamed to sort after the hand-stamped 1796800000000. */
export class NodeOwner1796900000000 implements MigrationInterface {
    name = 'NodeOwner1796900000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "national_node"
            ADD "owner_key_id" character varying(128) NOT NULL DEFAULT ''
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "national_node" DROP COLUMN "owner_key_id"
        `);
    }

}
