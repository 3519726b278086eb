#!/usr/bin/env node
// Generates a TypeORM migration for one service by diffing its entities against a throwaway
// database that has the service's existing migrations applied. See libs/database/README.md.
//
//   node libs/database/scripts/db-migration-generate.mjs <data-source.ts> <migrations-dir>/<Name>
//
// Env: MIGRATION_ADMIN_URL  a Postgres URL with CREATEDB rights (default postgres://postgres:postgres@127.0.0.1:5432/postgres)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { Client } = createRequire(import.meta.url)('pg');

const [dataSourceFile, outputPath, ...rest] = process.argv.slice(2);
if (!dataSourceFile || !outputPath || rest.length > 0) {
  console.error(
    'usage: db-migration-generate.mjs <path/to/data-source.ts> <path/to/migrations/Name>',
  );
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const adminUrl =
  process.env.MIGRATION_ADMIN_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const database = `migration_gen_${Date.now()}_${randomBytes(3).toString('hex')}`;
const url = new URL(adminUrl);
url.pathname = `/${database}`;

async function admin(sql) {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function typeorm(...args) {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(path.join(root, 'libs/database/scripts/register-ts.mjs')).href,
      path.join(root, 'node_modules/typeorm/cli.js'),
      ...args,
    ],
    { stdio: 'inherit', cwd: root, env: { ...process.env, DATABASE_URL: url.toString() } },
  );
  return result.status ?? 1;
}

await admin(`CREATE DATABASE "${database}"`);
let status = 1;
try {
  status = typeorm('migration:run', '-d', dataSourceFile);
  if (status === 0)
    status = typeorm('migration:generate', '-d', dataSourceFile, '--pretty', outputPath);
} finally {
  await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}
process.exit(status);
