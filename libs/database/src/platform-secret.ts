import { randomBytes } from 'node:crypto';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A secret every replica of a service shares and nobody configures: made at random by whichever
 * replica asks first, kept in the service's own database (e.g. the key page tokens are signed with).
 */
@Entity({ name: 'platform_secret' })
export class PlatformSecretEntity {
  @PrimaryColumn({
    name: 'name',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'pk_platform_secret',
  })
  name!: string;

  @Column({ name: 'value', type: 'bytea' })
  value!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** Creates `platform_secret`. Never edit it once released; add a new migration instead. */
export class CreatePlatformSecrets1796200000000 implements MigrationInterface {
  name = 'CreatePlatformSecrets1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "platform_secret" (
      "name" character varying(64) NOT NULL,
      "value" bytea NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "pk_platform_secret" PRIMARY KEY ("name"))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "platform_secret"`);
  }
}

/**
 * The service's secret `name`: the stored one, or `bytes` random bytes stored now. Replicas racing
 * on first start all end up with the one that was inserted first.
 */
export async function platformSecret(
  dataSource: DataSource,
  name: string,
  bytes = 32,
): Promise<Buffer> {
  await dataSource.query(
    `INSERT INTO platform_secret (name, value, created_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO NOTHING`,
    [name, randomBytes(bytes)],
  );
  const rows = await dataSource.query<{ value: Buffer }[]>(
    `SELECT value FROM platform_secret WHERE name = $1`,
    [name],
  );
  const value = rows[0]?.value;
  if (!value) throw new Error(`platform secret ${name} is missing right after it was stored`);
  return value;
}
