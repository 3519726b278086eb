import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Environment variables through which the Jest global setup hands its servers to test files. */
export const TEST_INFRA_ENV = {
  /** Superuser URL of the shared Postgres server. */
  postgresAdminUrl: 'CINODE_TEST_POSTGRES_ADMIN_URL',
  natsUrl: 'CINODE_TEST_NATS_URL',
  /** Prefix of every database this run creates, so a shared external server can be cleaned. */
  databasePrefix: 'CINODE_TEST_DATABASE_PREFIX',
} as const;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run tests through the workspace Jest config, whose global setup starts Postgres and NATS`,
    );
  }
  return value;
}

/** Creates a fresh, uniquely named, empty database on the shared test server and returns its URL. */
export async function createTestDatabase(prefix = 'db'): Promise<string> {
  const adminUrl = required(TEST_INFRA_ENV.postgresAdminUrl);
  const runPrefix = required(TEST_INFRA_ENV.databasePrefix);
  const label = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 30);
  const name = `${runPrefix}${label}_${randomBytes(5).toString('hex')}`;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** URL of the shared NATS server (JetStream enabled). */
export function testNatsUrl(): string {
  return required(TEST_INFRA_ENV.natsUrl);
}
