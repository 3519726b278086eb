import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  databaseUrl,
  ensureDatabase,
  forEachLine,
  isPortFree,
  LOOPBACK_HOST,
  redactUrl,
  signalGroup,
  startEmbeddedPostgres,
  startNatsServer,
  stopChild,
  waitForGrpcServing,
  waitForPostgres,
  type StartedNats,
  type StartedPostgres,
  removeDataDir,
} from '@cinode/local-infra';
import { loadManifests, type ServiceManifest } from '@cinode/manifest';
import { linePrinter, paint, table } from './console-output';
import { localNodeKeys } from './local-keys';
import { ensureDemoProvider } from './demo-provider';
import { fileSecrets } from './local-secrets';
import { planNode, serviceEntry, type ServicePlan } from './plan-node';

/** What `npm start` takes from its flags and environment (README, "npm start"). */
export interface LocalNodeSettings {
  /** .data/ under the workspace: databases, JetStream store, keys, secrets. */
  dataDir: string;
  /** DATABASE_URL: an admin URL of a server to use instead of the embedded one. */
  externalDatabase: string | undefined;
  /** NATS_URL: a server to use instead of the embedded nats-server. */
  externalNats: string | undefined;
  postgresPort: number;
  natsPort: number;
  /** How long each service may take to report SERVING. */
  startTimeoutMs: number;
  logLevel: string;
  nodeEnv: string;
  /** Delete dataDir first. */
  fresh: boolean;
  /** Pools the provider agent simulates (CINODE_AGENT_POOLS); 0: no agent. */
  agentPools: number;
}

export const DEFAULT_POSTGRES_PORT = 54329;
export const DEFAULT_NATS_PORT = 4229;
export const DEFAULT_START_TIMEOUT_MS = 60_000;
export const DEFAULT_AGENT_POOLS = 20;
/** The provider agent's entry point in dist/ (it has no manifest: it runs at a provider's site). */
export const PROVIDER_AGENT_ENTRY = 'dist/services/provider-agent/src/main.js';
/** How long a service may take to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
/**
 * One Ctrl-C can arrive twice: from the terminal and forwarded by npm (when the npm script execs
 * node). Only a signal noticeably later than the first means "kill now".
 */
const DUPLICATE_SIGNAL_MS = 1000;

/** Reads the settings, rejecting a malformed number instead of starting on NaN. */
export function localNodeSettings(
  workspaceRoot: string,
  env: Readonly<Record<string, string | undefined>>,
  flags: { fresh: boolean },
): LocalNodeSettings {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, max: number, min = 1): number => {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, not "${raw}"`);
    }
    return value;
  };
  const settings: LocalNodeSettings = {
    dataDir: join(workspaceRoot, '.data'),
    externalDatabase: nonEmpty(env['DATABASE_URL']),
    externalNats: nonEmpty(env['NATS_URL']),
    postgresPort: integer('CINODE_POSTGRES_PORT', DEFAULT_POSTGRES_PORT, 65535),
    natsPort: integer('CINODE_NATS_PORT', DEFAULT_NATS_PORT, 65535),
    startTimeoutMs: integer('CINODE_START_TIMEOUT_MS', DEFAULT_START_TIMEOUT_MS, 3_600_000),
    logLevel: nonEmpty(env['LOG_LEVEL']) ?? 'info',
    nodeEnv: nonEmpty(env['NODE_ENV']) ?? 'development',
    fresh: flags.fresh,
    agentPools: integer('CINODE_AGENT_POOLS', DEFAULT_AGENT_POOLS, 10_000, 0),
  };
  if (problems.length > 0) throw new Error(problems.join('; '));
  return settings;
}

export interface LocalNodeOptions {
  workspaceRoot: string;
  fresh: boolean;
  /** performance.now() when `npm start` began, for the total in the summary. */
  startedAt: number;
}

/**
 * `npm start` after the bootstrap: embedded Postgres and nats-server (or the external ones),
 * one database per service, local keys and secrets, migrations, then every service of
 * services/*\/service.json in start waves, each waited for until gRPC health says SERVING, and a
 * summary table. Owns the process from here on: Ctrl-C (SIGINT) or SIGTERM stops the services,
 * then NATS and Postgres, and exits; a second signal more than a second later kills everything.
 */
export async function runLocalNode(options: LocalNodeOptions): Promise<void> {
  const node = new LocalNode(options.workspaceRoot);
  process.on('SIGINT', () => void node.shutdown(0, 'SIGINT'));
  process.on('SIGTERM', () => void node.shutdown(0, 'SIGTERM'));
  // Services run in their own process groups; never leave one behind if this process dies.
  process.on('exit', () => node.killServices());
  try {
    const settings = localNodeSettings(options.workspaceRoot, process.env, options);
    await node.start(settings, options.startedAt);
  } catch (error: unknown) {
    console.error(paint(31, `\nstart-up failed: ${errorMessage(error)}`));
    await node.shutdown(1);
  }
}

interface RunningService {
  label: string;
  child: ChildProcess;
}

class LocalNode {
  private readonly services: RunningService[] = [];
  private postgres: StartedPostgres | undefined;
  private nats: StartedNats | undefined;
  private shuttingDown = false;
  private shutdownAt = 0;

  constructor(private readonly root: string) {}

  async start(settings: LocalNodeSettings, startedAt: number): Promise<void> {
    const tInfra = performance.now();
    if (settings.fresh) {
      console.log(`--fresh: removing ${settings.dataDir}`);
      // The cluster may live elsewhere behind a link (a root user's clone under /root).
      removeDataDir(join(settings.dataDir, 'postgres'));
      rmSync(settings.dataDir, { recursive: true, force: true });
    }
    // 0755: when we are root, Postgres runs as an unprivileged user that must reach its data.
    mkdirSync(settings.dataDir, { recursive: true, mode: 0o755 });

    const manifests = loadManifests(this.root);
    if (manifests.length === 0)
      console.warn('no services/*/service.json found; starting the infrastructure only');
    this.checkBuilt(manifests);
    await checkPortsFree(manifests);
    const width = Math.max(8, ...manifests.map((m) => `${m.name}:migrate`.length));
    const indexOf = new Map(manifests.map((m, i) => [m.name, i + 2]));
    const printer = (name: string, label = name): ((line: string) => void) =>
      linePrinter(label, indexOf.get(name) ?? 0, width);

    const [adminUrl, natsUrl] = await this.startInfrastructure(settings, width);
    await waitForPostgres(adminUrl, 30_000);
    for (const manifest of manifests) await ensureDatabase(adminUrl, manifest.database);

    const plan = planNode({
      manifests,
      host: LOOPBACK_HOST,
      databaseUrl: (manifest) => databaseUrl(adminUrl, manifest.database),
      natsUrl,
      keys: localNodeKeys(join(settings.dataDir, 'auth')),
      secret: fileSecrets(join(settings.dataDir, 'secrets')),
      nodeEnv: settings.nodeEnv,
      logLevel: settings.logLevel,
      inheritedEnv: process.env,
    });

    await Promise.all(
      plan.services.map((service) =>
        this.runToCompletion(service, printer(service.name, `${service.name}:migrate`)),
      ),
    );

    const tServices = performance.now();
    for (const wave of plan.waves) {
      await Promise.all(
        wave.map((service) => this.launch(service, settings.startTimeoutMs, printer(service.name))),
      );
    }
    const tReady = performance.now();
    this.printSummary(settings, plan.services, adminUrl, natsUrl);
    console.log(
      paint(
        32,
        `\nall ${plan.services.length} service(s) SERVING ${seconds(tReady - tServices)} after launch; ` +
          `infrastructure + migrations ${seconds(tServices - tInfra)}; total ${seconds(tReady - startedAt)} including install/build checks. Ctrl-C stops everything.`,
      ),
    );
    if (settings.agentPools > 0)
      await this.startProviderAgent(
        settings,
        plan.services,
        linePrinter('provider-agent', 1, width),
      );
  }

  /** Stops the services, then NATS and Postgres, and exits with `code`. */
  async shutdown(code: number, signal?: NodeJS.Signals): Promise<void> {
    if (this.shuttingDown) {
      if (signal !== undefined && performance.now() - this.shutdownAt > DUPLICATE_SIGNAL_MS) {
        console.error('second signal: killing everything now');
        this.killServices();
        // The embedded servers' exit guards (@cinode/local-infra) kill them as we exit.
        process.exit(1);
      }
      return;
    }
    this.shuttingDown = true;
    this.shutdownAt = performance.now();
    if (signal !== undefined) console.log(`\n${signal}: stopping services, then NATS and Postgres`);
    await Promise.all(this.services.map(({ child }) => stopChild(child, 'SIGTERM', STOP_GRACE_MS)));
    let exitCode = code;
    for (const [name, server] of [
      ['nats', this.nats],
      ['postgres', this.postgres],
    ] as const) {
      if (server === undefined) continue;
      try {
        await server.stop();
      } catch (error: unknown) {
        console.error(`${name} did not stop cleanly: ${errorMessage(error)}`);
        exitCode = exitCode || 1;
      }
    }
    console.log(exitCode === 0 ? 'stopped' : 'stopped after an error');
    process.exit(exitCode);
  }

  killServices(): void {
    for (const { child } of this.services) signalGroup(child, 'SIGKILL');
  }

  private checkBuilt(manifests: readonly ServiceManifest[]): void {
    const missing = manifests
      .map((manifest) => serviceEntry(manifest.name))
      .filter((entry) => !existsSync(join(this.root, entry)));
    if (missing.length > 0) {
      throw new Error(
        `not built: ${missing.join(', ')} (run npm start without --no-build, or npm run build)`,
      );
    }
  }

  private async startInfrastructure(
    settings: LocalNodeSettings,
    width: number,
  ): Promise<[adminUrl: string, natsUrl: string]> {
    // Both at once, but wait for both before failing, so a half-started pair is stopped by shutdown.
    const [postgres, nats] = await Promise.allSettled([
      (async () => {
        if (settings.externalDatabase !== undefined) return settings.externalDatabase;
        this.postgres = await startEmbeddedPostgres({
          dataDir: join(settings.dataDir, 'postgres'),
          port: settings.postgresPort,
          persistent: true,
          onLog: quietLog(linePrinter('postgres', 0, width), settings.logLevel),
        });
        return this.postgres.adminUrl;
      })(),
      (async () => {
        if (settings.externalNats !== undefined) return settings.externalNats;
        this.nats = await startNatsServer({
          storeDir: join(settings.dataDir, 'nats'),
          port: settings.natsPort,
          persistent: true,
          onLog: quietLog(linePrinter('nats', 1, width), settings.logLevel),
        });
        return this.nats.url;
      })(),
    ]);
    if (postgres.status === 'rejected') throw asError(postgres.reason);
    if (nats.status === 'rejected') throw asError(nats.reason);
    return [postgres.value, nats.value];
  }

  private spawnService(
    env: NodeJS.ProcessEnv,
    args: readonly string[],
    label: string,
    print: (line: string) => void,
  ): RunningService {
    const child = spawn(process.execPath, args, {
      cwd: this.root,
      env,
      // Its own process group: Ctrl-C reaches only us, and we stop the services in order.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = { label, child };
    this.services.push(running);
    forEachLine(child.stdout, print);
    forEachLine(child.stderr, print);
    return running;
  }

  private async runToCompletion(
    service: ServicePlan,
    print: (line: string) => void,
  ): Promise<void> {
    const running = this.spawnService(
      service.env,
      service.migrateCommand,
      `${service.name} migrate`,
      print,
    );
    await new Promise<void>((resolve, reject) => {
      running.child.once('error', reject);
      running.child.once('exit', (code, signal) => {
        this.services.splice(this.services.indexOf(running), 1);
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `${service.name}: \`main.js ${service.migrateCommand.slice(1).join(' ')}\` failed (${signal ?? `exit code ${code}`})`,
            ),
          );
      });
    });
  }

  /**
   * Starts a service and resolves once it is SERVING. If it exits before that, the start fails;
   * if it exits later (and we are not stopping), the whole node stops.
   */
  private async launch(
    service: ServicePlan,
    timeoutMs: number,
    print: (line: string) => void,
  ): Promise<void> {
    const { child } = this.spawnService(service.env, service.command, service.name, print);
    let serving = false;
    const died = new AbortController();
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) => {
        died.abort();
        reject(new Error(`${service.name} could not be started: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        died.abort();
        const how = signal ?? `exit code ${code}`;
        if (this.shuttingDown) return;
        if (!serving) reject(new Error(`${service.name} exited during start-up (${how})`));
        else {
          console.error(paint(31, `\n${service.name} exited (${how}); stopping everything`));
          void this.shutdown(1);
        }
      });
    });
    // Once the race is decided nothing listens to `exited`; its rejection must not crash us.
    exited.catch(() => undefined);
    const ready = waitForGrpcServing(service.grpcAddress, {
      timeoutMs,
      signal: died.signal,
    }).catch((error: unknown) => {
      // A process that died makes the wait abort; report the exit, not the abort.
      if (died.signal.aborted) return exited;
      throw new Error(
        `${service.name} on ${service.grpcAddress} is not SERVING: ${errorMessage(error)}`,
      );
    });
    await Promise.race([exited, ready]);
    serving = true;
  }

  /**
   * The provider agent in simulation, as the local demo provider (registered and certified by the
   * bootstrap operator on the first start, its key kept in .data/provider-agent/). Not waited
   * for: it registers its pools while the summary is read. Its exit is reported, not fatal.
   */
  private async startProviderAgent(
    settings: LocalNodeSettings,
    services: readonly ServicePlan[],
    print: (line: string) => void,
  ): Promise<void> {
    const address = (name: string) => services.find((s) => s.name === name)?.grpcAddress;
    const serviceCenter = address('service-center');
    const resources = address('resource-aggregation');
    if (!serviceCenter || !resources || !existsSync(join(this.root, PROVIDER_AGENT_ENTRY))) {
      print(paint(33, 'no provider agent: its entry point or the services it needs are missing'));
      return;
    }
    let provider;
    try {
      provider = await ensureDemoProvider({
        dir: join(settings.dataDir, 'provider-agent'),
        serviceCenterAddress: serviceCenter,
        operatorApiKey: fileSecrets(join(settings.dataDir, 'secrets'))(
          'operator-bootstrap-key',
          'api-key',
        ),
      });
    } catch (error: unknown) {
      // The node is up; only its demo provider is missing.
      print(paint(31, `no provider agent: the demo provider failed: ${errorMessage(error)}`));
      return;
    }
    print(
      `${provider.created ? 'registered and certified' : 'reusing'} the demo provider ${provider.participantId} (API key in ${provider.apiKeyFile}); simulating ${settings.agentPools} pools (CINODE_AGENT_POOLS)`,
    );
    const { child } = this.spawnService(
      {
        PATH: process.env['PATH'],
        NODE_ENV: settings.nodeEnv,
        LOG_LEVEL: settings.logLevel,
        SERVICE_CENTER_ADDRESS: serviceCenter,
        RESOURCE_AGGREGATION_ADDRESS: resources,
        PROVIDER_API_KEY_FILE: provider.apiKeyFile,
      },
      [PROVIDER_AGENT_ENTRY, '--simulate', String(settings.agentPools)],
      'provider-agent',
      print,
    );
    child.once('exit', (code, signal) => {
      if (!this.shuttingDown)
        console.error(
          paint(31, `provider-agent exited (${signal ?? `exit code ${code}`}); the node runs on`),
        );
    });
  }

  private printSummary(
    settings: LocalNodeSettings,
    services: readonly ServicePlan[],
    adminUrl: string,
    natsUrl: string,
  ): void {
    const dataDir = settings.dataDir;
    console.log(
      `\n${table(
        ['service', 'gRPC', 'metrics', 'database'],
        services.map((s) => [
          s.name,
          s.grpcAddress,
          `http://${LOOPBACK_HOST}:${s.metricsPort}/metrics`,
          s.database,
        ]),
      )}\n`,
    );
    console.log(
      `postgres  ${redactUrl(adminUrl)}${settings.externalDatabase !== undefined ? ' (external)' : ` (data in ${join(dataDir, 'postgres')})`}`,
    );
    console.log(
      `nats      ${natsUrl}${settings.externalNats !== undefined ? ' (external)' : ` (JetStream store in ${join(dataDir, 'nats')})`}`,
    );
    console.log(
      `tokens    npm run -s token -- --role <role>   (signed with the key in ${join(dataDir, 'auth')})`,
    );
    const operatorKey = join(dataDir, 'secrets', 'operator-bootstrap-key');
    if (existsSync(operatorKey)) {
      console.log(
        `operator  API key of the bootstrap operator: ${operatorKey} (exchange it with TokenService/IssueToken; npm run demo walks the flow)`,
      );
    }
  }
}

async function checkPortsFree(manifests: readonly ServiceManifest[]): Promise<void> {
  // Uniqueness across services is loadManifests' job; here: is anything else listening?
  for (const manifest of manifests) {
    for (const [port, what] of [
      [manifest.grpcPort, 'gRPC'],
      [manifest.metricsPort, 'metrics'],
    ] as const) {
      if (!(await isPortFree(port)))
        throw new Error(
          `port ${port} (${manifest.name} ${what}) is already in use; is another npm start running?`,
        );
    }
  }
}

/** Postgres and NATS are chatty at start; show warnings and errors only, unless LOG_LEVEL=debug. */
function quietLog(print: (line: string) => void, logLevel: string): (line: string) => void {
  if (logLevel === 'debug') return print;
  return (line) => {
    if (/\b(WARNING|ERROR|FATAL|PANIC|\[ERR\]|\[WRN\]|\[FTL\])/.test(line)) print(line);
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
