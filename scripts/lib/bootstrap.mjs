// Gets a fresh checkout ready to run: dependencies, the nats-server binary, a build.
// Node built-ins only: this runs before node_modules exists.
//
//   node scripts/lib/bootstrap.mjs [deps] [nats] [build]     (no argument: deps and nats)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STAMP = join(ROOT, 'node_modules', '.cinode-deps.sha256');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args, options = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export function dependencyHash() {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) {
    const path = join(ROOT, file);
    hash
      .update(file)
      .update('\0')
      .update(existsSync(path) ? readFileSync(path) : '')
      .update('\0');
  }
  return hash.digest('hex');
}

/** Installs node_modules unless it matches package.json and package-lock.json already. */
export function ensureDependencies() {
  const wanted = dependencyHash();
  const current = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : undefined;
  if (existsSync(join(ROOT, 'node_modules')) && current === wanted) return;
  // npm ci refuses lockfiles that lack other platforms' optional dependencies (npm/cli#4828);
  // npm install --no-save then installs the same versions without rewriting the lockfile.
  // npm's own complaint about that is a page of usage text, so it is summarised instead.
  console.log(`$ ${NPM} ci`);
  const ci = spawnSync(NPM, ['ci'], {
    cwd: ROOT,
    stdio: ['inherit', 'inherit', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (ci.error) throw ci.error;
  const ciErrors = ci.stderr ?? '';
  if (ci.status === 0) {
    process.stderr.write(ciErrors);
  } else {
    if (/package\.json and package-lock\.json .*in sync/s.test(ciErrors)) {
      const missing = ciErrors.match(/^npm error Missing: /gm)?.length ?? 0;
      console.warn(
        `npm ci refused the lockfile (${missing} other-platform optional package(s) not in it, npm/cli#4828)`,
      );
    } else {
      process.stderr.write(ciErrors);
      console.warn('npm ci failed');
    }
    console.warn(
      'falling back to npm install --no-save (same versions; the lockfile is not rewritten)',
    );
    if (run(NPM, ['install', '--no-save']) !== 0) fail('npm install failed');
  }
  writeFileSync(STAMP, `${wanted}\n`);
}

export function findOnPath(name) {
  for (const dir of [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
  ]) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function isDebianLike() {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(release);
  } catch {
    return false;
  }
}

/** Makes sure nats-server is on PATH, installing it with apt when we are root on Debian/Ubuntu. */
export function ensureNatsServer() {
  if (findOnPath('nats-server')) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isDebianLike() && findOnPath('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (
      run('apt-get', ['update'], { env }) !== 0 ||
      run('apt-get', ['install', '-y', '--no-install-recommends', 'nats-server'], { env }) !== 0
    ) {
      fail('apt-get could not install nats-server');
    }
    // The package enables a system service on port 4222; we start our own servers.
    spawnSync('systemctl', ['disable', '--now', 'nats-server'], { stdio: 'ignore' });
    if (findOnPath('nats-server')) return;
    fail('nats-server was installed but is not on PATH');
  }
  fail(
    [
      'nats-server (with JetStream) is required but not on PATH. Install it, then run this again:',
      '  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y nats-server',
      '  macOS:          brew install nats-server',
      '  anywhere:       download a release from https://github.com/nats-io/nats-server/releases',
      '                  and put the nats-server binary on PATH',
      'Or point NATS_URL (npm start) / TEST_NATS_URL (npm test) at a running server.',
    ].join('\n'),
  );
}

/** Builds every project; Nx's cache makes an unchanged tree cheap. */
export function ensureBuilt() {
  if (run(NPM, ['run', 'build', '--silent']) !== 0) fail('npm run build failed');
}

function fail(message) {
  console.error(`\n${message}`);
  process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const steps = process.argv.slice(2);
  const wanted = steps.length === 0 ? ['deps', 'nats'] : steps;
  const known = { deps: ensureDependencies, nats: ensureNatsServer, build: ensureBuilt };
  for (const step of wanted) {
    if (!(step in known)) fail(`unknown step "${step}"; use deps, nats or build`);
  }
  for (const step of wanted) known[step]();
}
