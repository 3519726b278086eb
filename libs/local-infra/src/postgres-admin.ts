import { Client } from 'pg';

const DUPLICATE_DATABASE = '42P04';
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The URL of database `name` on the server that adminUrl points at. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** The URL without its password, for logs and tables. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/** Creates database `name` unless it exists; safe to call concurrently. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  if (!DATABASE_NAME.test(name)) {
    throw new Error(
      `invalid database name "${name}": use lowercase letters, digits and _ (at most 63)`,
    );
  }
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount !== null && existing.rowCount > 0) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      return true;
    } catch (error: unknown) {
      if (isPgError(error) && error.code === DUPLICATE_DATABASE) return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** Drops every database whose name starts with prefix, disconnecting its sessions. */
export async function dropDatabasesWithPrefix(adminUrl: string, prefix: string): Promise<string[]> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const result = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> 'postgres'",
      [prefix],
    );
    const names = result.rows.map((row) => row.datname);
    for (const name of names) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    }
    return names;
  } finally {
    await client.end();
  }
}

/** Retries a trivial query until the server answers or timeoutMs passes. */
export async function waitForPostgres(adminUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error: unknown) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `Postgres at ${redactUrl(adminUrl)} did not answer within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

function isPgError(error: unknown): error is { code: string } {
  return (
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
  );
}
