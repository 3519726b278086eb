// `npm start`: the whole node on this machine. Embedded Postgres and nats-server (data under .data/,
// kept across restarts), one database per service, a local token signing key, every service in
// services/*/service.json, each waited for until gRPC health says SERVING.
//
//   npm start [-- --fresh] [-- --no-build]
//   DATABASE_URL=postgres://admin@host/postgres NATS_URL=nats://host:4222 npm start   (external servers)
//   CINODE_POSTGRES_PORT / CINODE_NATS_PORT move the embedded servers (defaults 54329 / 4229).
//   Tokens for calling the services: npm run -s token -- --role <role>
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBuilt, ensureDependencies, ensureNatsServer, ROOT } from './lib/bootstrap.mjs';
import { linePrinter, paint, pipeLines, table } from './lib/output.mjs';

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

const DATA = join(ROOT, '.data');
const HEALTH_TIMEOUT_MS = Number(process.env.CINODE_START_TIMEOUT_MS ?? 60_000);
const STOP_GRACE_MS = 10_000;
const externalDatabase = nonEmpty(process.env.DATABASE_URL);
const externalNats = nonEmpty(process.env.NATS_URL);

const running = { services: [], nats: undefined, postgres: undefined };
let shuttingDown = false;
let shutdownAt = 0;
const DUPLICATE_SIGNAL_MS = 1000;
let started = false;

process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
// Services run in their own process groups; never leave one behind if this process dies.
process.on('exit', () => {
  for (const { child } of running.services) killGroup(child, 'SIGKILL');
});

try {
  await main();
} catch (error) {
  console.error(
    paint(31, `\nstart-up failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  await shutdown(1);
}

async function main() {
  const t0 = performance.now();
  ensureDependencies();
  if (!externalNats) ensureNatsServer();
  if (!args.includes('--no-build')) ensureBuilt();
  const infra = createRequire(import.meta.url)(
    join(ROOT, 'dist', 'libs', 'local-infra', 'src', 'index.js'),
  );
  const tInfra = performance.now();

  if (args.includes('--fresh')) {
    console.log(`--fresh: removing ${DATA}`);
    rmSync(DATA, { recursive: true, force: true });
  }
  mkdirSync(DATA, { recursive: true, mode: 0o755 });

  const services = discoverServices();
  if (services.length === 0)
    console.warn('no services/*/service.json found; starting the infrastructure only');
  await checkPortsFree(infra, services);
  const width = Math.max(8, ...services.map((s) => s.name.length + 8));

  const [adminUrl, natsUrl] = await Promise.all([
    (async () => {
      if (externalDatabase) return externalDatabase;
      running.postgres = await infra.startEmbeddedPostgres({
        dataDir: join(DATA, 'postgres'),
        port: Number(process.env.CINODE_POSTGRES_PORT ?? 54329),
        persistent: true,
        onLog: quietLog(linePrinter('postgres', 0, width)),
      });
      return running.postgres.adminUrl;
    })(),
    (async () => {
      if (externalNats) return externalNats;
      running.nats = await infra.startNatsServer({
        storeDir: join(DATA, 'nats'),
        port: Number(process.env.CINODE_NATS_PORT ?? 4229),
        persistent: true,
        onLog: quietLog(linePrinter('nats', 1, width)),
      });
      return running.nats.url;
    })(),
  ]);
  await infra.waitForPostgres(adminUrl, 30_000);
  for (const service of services) await infra.ensureDatabase(adminUrl, service.database);
  const { jwks, serviceSigningKey } = localSigningKeys();

  const byName = new Map(services.map((s) => [s.name, s]));
  const serviceCenter = byName.get('service-center');
  const envFor = (service) => ({
    ...process.env,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(service.grpcPort),
    METRICS_PORT: String(service.metricsPort),
    DATABASE_URL: infra.databaseUrl(adminUrl, service.database),
    NATS_URL: natsUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    GRPC_REFLECTION: 'true',
    AUTH_JWT_PUBLIC_KEYS: jwks,
    AUTH_SERVICE_SIGNING_KEY: serviceSigningKey,
    ...(serviceCenter ? { AUTH_JWKS_ADDRESS: `127.0.0.1:${serviceCenter.grpcPort}` } : {}),
    ...serviceEnv(service, byName),
  });

  await Promise.all(
    services.map((service, i) =>
      runToCompletion(
        service,
        ['migrate'],
        envFor(service),
        linePrinter(`${service.name}:migrate`, i + 2, width),
      ),
    ),
  );

  const tServices = performance.now();
  // Waves by "startOrder" in service.json (default 1): the service center (0) serves the keys every
  // other service verifies tokens with, so it is SERVING before they start.
  const waves = [...new Set(services.map((s) => s.startOrder ?? 1))].sort((a, b) => a - b);
  for (const wave of waves) {
    await Promise.all(
      services.map((service, i) =>
        (service.startOrder ?? 1) === wave
          ? launch(infra, service, envFor(service), linePrinter(service.name, i + 2, width))
          : undefined,
      ),
    );
  }
  started = true;
  const tReady = performance.now();

  console.log(
    `\n${table(
      ['service', 'gRPC', 'metrics', 'database'],
      services.map((s) => [
        s.name,
        `127.0.0.1:${s.grpcPort}`,
        `http://127.0.0.1:${s.metricsPort}/metrics`,
        s.database,
      ]),
    )}\n`,
  );
  console.log(
    `postgres  ${infra.redactUrl(adminUrl)}${externalDatabase ? ' (external)' : ` (data in ${join(DATA, 'postgres')})`}`,
  );
  console.log(
    `nats      ${natsUrl}${externalNats ? ' (external)' : ` (JetStream store in ${join(DATA, 'nats')})`}`,
  );
  console.log(
    `tokens    npm run -s token -- --role <role>   (signed with the key in ${join(DATA, 'auth')})`,
  );
  if (existsSync(join(DATA, 'secrets', 'operator-bootstrap-key'))) {
    console.log(
      `operator  API key of the bootstrap operator: ${join(DATA, 'secrets', 'operator-bootstrap-key')} (exchange it with TokenService/IssueToken; npm run demo walks the flow)`,
    );
  }
  console.log(
    paint(
      32,
      `\nall ${services.length} service(s) SERVING ${seconds(tReady - tServices)} after launch; ` +
        `infrastructure + migrations ${seconds(tServices - tInfra)}; total ${seconds(tReady - t0)} including install/build checks. Ctrl-C stops everything.`,
    ),
  );
}

function discoverServices() {
  const dir = join(ROOT, 'services');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'service.json')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = join(dir, name, 'service.json');
      const spec = JSON.parse(readFileSync(file, 'utf8'));
      const problems = [];
      for (const key of ['grpcPort', 'metricsPort'])
        if (!Number.isInteger(spec[key])) problems.push(`${key} must be an integer`);
      if (typeof spec.database !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(spec.database))
        problems.push('database must be a lowercase identifier');
      if (typeof spec.grpcService !== 'string') problems.push('grpcService must be a string');
      if (problems.length > 0) fatal(`${file}: ${problems.join('; ')}`);
      const main = join(ROOT, 'dist', 'services', name, 'src', 'main.js');
      if (!existsSync(main)) fatal(`${name}: ${main} does not exist; did its build target run?`);
      return { name, main, ...spec };
    });
}

async function checkPortsFree(infra, services) {
  const wanted = services.flatMap((s) => [
    [s.grpcPort, `${s.name} gRPC`],
    [s.metricsPort, `${s.name} metrics`],
  ]);
  const seen = new Map();
  for (const [port, owner] of wanted) {
    if (seen.has(port)) fatal(`port ${port} is claimed by both ${seen.get(port)} and ${owner}`);
    seen.set(port, owner);
    if (!(await infra.isPortFree(port)))
      fatal(`port ${port} (${owner}) is already in use; is another npm start running?`);
  }
}

/**
 * Local token keys, generated once (docs/adr/0001): a development participant key (tokens for
 * people, minted by `npm run token`) and the node's service key (marked `cinode_scope: service`),
 * with which services mint their own `service`-role tokens. Returns the public JWKS of both and the
 * service key's private JWK.
 */
function localSigningKeys() {
  const dir = join(DATA, 'auth');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const participant = ensureKey(join(dir, 'signing-key.jwk.json'), {});
  const service = ensureKey(join(dir, 'service-signing-key.jwk.json'), { cinode_scope: 'service' });
  const publicOf = (jwk) => Object.fromEntries(Object.entries(jwk).filter(([k]) => k !== 'd'));
  return {
    jwks: JSON.stringify({ keys: [publicOf(participant), publicOf(service)] }),
    serviceSigningKey: JSON.stringify(service),
  };
}

function ensureKey(file, extra) {
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order.
    const kid = createHash('sha256')
      .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
      .digest('base64url');
    writeFileSync(
      file,
      `${JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig', ...extra }, null, 2)}\n`,
      {
        mode: 0o600,
      },
    );
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * A service's own settings from the "env" of its service.json. Values may name another service's
 * gRPC address, `\${grpc:<service>}`, or a local secret generated once under .data/secrets/,
 * `\${secret:<name>:base64-32}` (32 random bytes) or `\${secret:<name>:api-key}` (a cinode API key).
 */
function serviceEnv(service, byName) {
  const out = {};
  for (const [key, template] of Object.entries(service.env ?? {})) {
    out[key] = String(template).replace(
      /\$\{(grpc|secret):([a-z0-9-]+)(?::([a-z0-9-]+))?\}/g,
      (_, kind, name, format) => {
        if (kind === 'grpc') {
          const target = byName.get(name);
          if (!target)
            fatal(`${service.name}: service.json env ${key} names unknown service ${name}`);
          return `127.0.0.1:${target.grpcPort}`;
        }
        return localSecret(name, format);
      },
    );
  }
  return out;
}

function localSecret(name, format) {
  const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const dir = join(DATA, 'secrets');
  const file = join(dir, name);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Rejection sampling: bytes of 248 and above would bias the first eight characters.
    const base62 = (n) => {
      let out = '';
      while (out.length < n)
        for (const b of randomBytes(n)) if (b < 248 && out.length < n) out += BASE62[b % 62];
      return out;
    };
    let value;
    if (format === 'base64-32') value = randomBytes(32).toString('base64');
    else if (format === 'api-key') value = `cin_${base62(8)}_${base62(32)}`;
    else fatal(`unknown secret format ${format} for ${name}`);
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

function runToCompletion(service, extraArgs, env, print) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [service.main, ...extraArgs], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = { name: `${service.name} ${extraArgs.join(' ')}`, child };
    running.services.push(entry);
    pipeLines(child.stdout, print);
    pipeLines(child.stderr, print);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      running.services.splice(running.services.indexOf(entry), 1);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${service.name}: \`main.js ${extraArgs.join(' ')}\` failed (${signal ?? `exit code ${code}`})`,
          ),
        );
    });
  });
}

async function launch(infra, service, env, print) {
  const child = spawn(process.execPath, [service.main], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.services.push({ name: service.name, child });
  pipeLines(child.stdout, print);
  pipeLines(child.stderr, print);
  const died = new globalThis.AbortController();
  const exited = new Promise((_resolve, reject) => {
    child.once('error', (error) => {
      died.abort();
      reject(new Error(`${service.name} could not be started: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      died.abort();
      const how = signal ?? `exit code ${code}`;
      if (!started) reject(new Error(`${service.name} exited during start-up (${how})`));
      else if (!shuttingDown) {
        console.error(paint(31, `\n${service.name} exited (${how}); stopping everything`));
        void shutdown(1);
      }
    });
  });
  exited.catch(() => undefined);
  const address = `127.0.0.1:${service.grpcPort}`;
  await Promise.race([
    exited,
    infra
      .waitForGrpcServing(address, { timeoutMs: HEALTH_TIMEOUT_MS, signal: died.signal })
      .catch((error) => {
        if (died.signal.aborted) return exited;
        throw new Error(`${service.name} on ${address} is not SERVING: ${error.message}`);
      }),
  ]);
}

async function shutdown(code, signal) {
  if (shuttingDown) {
    // One Ctrl-C can arrive twice: from the terminal and forwarded by npm (when the npm script
    // execs node). Only a signal noticeably later than the first means "kill now".
    if (signal && performance.now() - shutdownAt > DUPLICATE_SIGNAL_MS) {
      console.error('second signal: killing everything now');
      for (const { child } of running.services) killGroup(child, 'SIGKILL');
      process.exit(1);
    }
    return;
  }
  shuttingDown = true;
  shutdownAt = performance.now();
  if (signal) console.log(`\n${signal}: stopping services, then NATS and Postgres`);
  await Promise.all(running.services.map(({ child }) => stopProcess(child)));
  for (const [name, thing] of [
    ['nats', running.nats],
    ['postgres', running.postgres],
  ]) {
    if (!thing) continue;
    try {
      await thing.stop();
    } catch (error) {
      console.error(
        `${name} did not stop cleanly: ${error instanceof Error ? error.message : String(error)}`,
      );
      code = code || 1;
    }
  }
  console.log(code === 0 ? 'stopped' : 'stopped after an error');
  process.exit(code);
}

async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Postgres and NATS are chatty at start; show warnings and errors only, unless LOG_LEVEL=debug. */
function quietLog(print) {
  if (process.env.LOG_LEVEL === 'debug') return print;
  return (line) => {
    if (/\b(WARNING|ERROR|FATAL|PANIC|\[ERR\]|\[WRN\]|\[FTL\])/.test(line)) print(line);
  };
}

function nonEmpty(value) {
  return value === undefined || value === '' ? undefined : value;
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function fatal(message) {
  throw new Error(message);
}
