// `npm start`: the whole node on this machine. Embedded Postgres and nats-server (data under .data/,
// kept across restarts), one database per service, a local token signing key, every service in
// services/*/service.json (their manifests: docs/service-manifest.md), started in waves and each
// waited for until gRPC health says SERVING.
//
//   npm start [-- --fresh] [-- --no-build]
//   DATABASE_URL=postgres://admin@host/postgres NATS_URL=nats://host:4222 npm start   (external servers)
//   CINODE_POSTGRES_PORT / CINODE_NATS_PORT move the embedded servers (defaults 54329 / 4229).
//   CINODE_START_TIMEOUT_MS: how long each service may take to report SERVING (default 60000).
//   CINODE_AGENT_POOLS: pools the provider agent simulates once the services serve (default 20;
//   0: no agent). It runs as a local demo provider, registered and certified on the first start
//   (API key in .data/provider-agent/), so a fresh node has something to select.
//   Tokens for calling the services: npm run -s token -- --role <role>

// This file only gets the checkout ready (dependencies, nats-server, a build) with Node built-ins;
// the launcher itself is TypeScript, libs/launcher (@cinode/launcher), run from its build in dist/.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBuilt, ensureDependencies, ensureNatsServer, ROOT } from './lib/bootstrap.mjs';
import { paint } from './lib/output.mjs';

const startedAt = performance.now();
const args = process.argv.slice(2);
if (args.includes('--help')) {
  // The opening comment block of this file is the help text.
  const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  console.log(
    lines
      .slice(0, end)
      .map((l) => l.slice(3))
      .join('\n'),
  );
  process.exit(0);
}
const unknown = args.filter((arg) => !['--fresh', '--no-build'].includes(arg));
if (unknown.length > 0) {
  console.error(`unknown argument(s): ${unknown.join(' ')} (try --help)`);
  process.exit(2);
}

ensureDependencies();
if (!process.env.NATS_URL) ensureNatsServer();
if (!args.includes('--no-build')) ensureBuilt();

const launcher = join(ROOT, 'dist', 'libs', 'launcher', 'src', 'index.js');
if (!existsSync(launcher)) {
  console.error(
    paint(31, `${launcher} does not exist: run npm start without --no-build (or npm run build)`),
  );
  process.exit(1);
}
const { runLocalNode } = createRequire(import.meta.url)(launcher);
await runLocalNode({ workspaceRoot: ROOT, fresh: args.includes('--fresh'), startedAt });
