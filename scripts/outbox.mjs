// `npm run outbox`: lists and requeues parked outbox rows of one service (`npm run outbox -- --help`).
// `--service NAME` points it at the database `npm start` made for that service (its manifest's
// database on the local Postgres); DATABASE_URL or --database selects any other.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ensureBuilt, ensureDependencies, ROOT } from './lib/bootstrap.mjs';

const cli = join(ROOT, 'dist', 'libs', 'events', 'src', 'outbox-cli.js');
if (!existsSync(cli)) {
  ensureDependencies();
  ensureBuilt();
}

const args = process.argv.slice(2);
const at = args.indexOf('--service');
const env = { ...process.env };
if (at >= 0) {
  const name = args[at + 1] ?? '';
  const manifestFile = join(ROOT, 'services', name, 'service.json');
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(manifestFile)) {
    console.error(`--service: no service "${name}" (services/<name>/service.json)`);
    process.exit(2);
  }
  const { database } = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const port = process.env.CINODE_POSTGRES_PORT ?? '54329';
  env.DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  args.splice(at, 2);
}
const { runOutboxCli } = createRequire(import.meta.url)(cli);
process.exit(await runOutboxCli(args, env));
