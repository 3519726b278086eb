import type { Role } from '@cinode/auth';
import {
  clientCredentials,
  createGrpcClient,
  fromTimestamp,
  type PromiseClient,
} from '@cinode/grpc';
import { newSecret, planNode, type ServicePlan, type ServicePorts } from '@cinode/launcher';
import { loadManifests, serverOf } from '@cinode/manifest';
import type { AuditServiceClient } from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type { IdentifierServiceClient } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type { MarketServiceClient } from '@cinode/proto/gen/cinode/market/v1/market_service';
import type { ResourceServiceClient } from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import type { SelectionServiceClient } from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import type {
  NationalNodeAdminServiceClient,
  NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type {
  ApiKeyServiceClient,
  CertificationServiceClient,
  ParticipantServiceClient,
  QualificationServiceClient,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  createTestPki,
  findFreePort,
  plaintext,
  spawnService,
  startTestNats,
  waitForServing,
  WORKSPACE_ROOT,
  type IssuedCertificate,
  type ServiceProcess,
  type TestAuth,
  type TestNats,
  type TestPki,
} from '@cinode/testing';
import type { ChannelCredentials, Metadata } from '@grpc/grpc-js';

/** One built service running as a process. */
export interface RunningService {
  name: string;
  address: string;
  metricsPort: number;
  proc: ServiceProcess;
}

/** Typed clients of every RPC the e2e tests call; none carries a token of its own. */
export interface NodeClients {
  participants: PromiseClient<ParticipantServiceClient>;
  certification: PromiseClient<CertificationServiceClient>;
  apiKeys: PromiseClient<ApiKeyServiceClient>;
  qualifications: PromiseClient<QualificationServiceClient>;
  tokens: PromiseClient<TokenServiceClient>;
  identifiers: PromiseClient<IdentifierServiceClient>;
  resources: PromiseClient<ResourceServiceClient>;
  selection: PromiseClient<SelectionServiceClient>;
  market: PromiseClient<MarketServiceClient>;
  national: PromiseClient<NationalNodeServiceClient>;
  nationalAdmin: PromiseClient<NationalNodeAdminServiceClient>;
  /** The identifier's audit trail (every service serves one; this is the identifier's). */
  identifierAudit: PromiseClient<AuditServiceClient>;
  /** The national node mock's audit trail (read with a token for its audience). */
  nationalAudit: PromiseClient<AuditServiceClient>;
}

export interface NodeUnderTest {
  serviceCenter: RunningService;
  identifier: RunningService;
  nationalNode: RunningService;
  nats: TestNats;
  /** The bootstrap operator's API key (OPERATOR_BOOTSTRAP_KEY). */
  operatorBootstrapKey: string;
  tokenTtlSeconds: number;
  /**
   * A token minted for the national node (its audience), signed with the test keys the mock
   * trusts: what a national-node operator would hold. Node tokens are refused there.
   */
  nationalToken(roles: Role[]): Promise<string>;
  clients: NodeClients;
  /** The test keys every service trusts (AUTH_JWT_PUBLIC_KEYS): tokens of any role and subject. */
  auth: TestAuth;
  /** Where each gRPC service of the node is served. */
  addressOf(grpcService: string): string;
  /** Every service of the node (by manifest name) and its gRPC address. */
  serviceAddresses(): Map<string, string>;
  /** A service's exit code; null while it runs. */
  exitCodeOf(service: string): number | null;
  /** A service's Prometheus port. */
  metricsPortOf(service: string): number;
  /** What a service has written to stdout and stderr so far (for failure messages). */
  outputOf(service: string): string;
  /** How the clients above reach the services: plaintext, or mTLS with the test's own certificate. */
  credentials: ChannelCredentials;
  /** With NodeSettings.tls: the CA that signed every certificate, and the clients' certificate. */
  tls?: { pki: TestPki; client: IssuedCertificate };
  /** SIGTERMs every service, closes the clients, stops NATS; resolves with each exit code. */
  stop(): Promise<Record<string, number | null>>;
}

export interface NodeSettings {
  tokenTtlSeconds: number;
  /**
   * TLS and mTLS everywhere: a CA made for this node signs one certificate per service (server and
   * client) and one for the test's clients; every service requires client certificates.
   */
  tls?: boolean;
  /** More environment for every service (e.g. where to export traces). */
  env?: Record<string, string>;
}

/** Clock skew every service of the e2e node allows past `exp`: small, so expiry tests stay short. */
export const E2E_CLOCK_TOLERANCE_SECONDS = 2;

/** Settings only the tests want: short timeouts and retries, and a token lifetime of their choosing. */
function testEnv(
  service: ServicePlan,
  settings: NodeSettings,
  plan: { services: readonly ServicePlan[] },
): Record<string, string> {
  const common = {
    SHUTDOWN_GRACE_MS: '2000',
    AUTH_JWT_CLOCK_TOLERANCE_SECONDS: String(E2E_CLOCK_TOLERANCE_SECONDS),
  };
  // One node key per run, as a node key is per installation, and the same for every service that
  // registers the node (the identifier, reporting): with two keys the national node would know two
  // nodes, and a special request issued to one of them would never be answered by the other.
  const identifierPort = plan.services.find((s) => s.name === 'identifier')?.grpcPort;
  const nodeKey = `e2e-entry-to-market-${identifierPort ?? service.grpcPort}`;
  switch (service.name) {
    case 'service-center':
      return { ...common, TOKEN_TTL_SECONDS: String(settings.tokenTtlSeconds) };
    case 'identifier':
      return {
        ...common,
        NATIONAL_NODE_TIMEOUT_MS: '2000',
        NODE_KEY: nodeKey,
        REGISTRATION_RETRY_INITIAL_MS: '100',
        REGISTRATION_RETRY_MAX_MS: '1000',
        FILING_RETRY_INITIAL_MS: '200',
        FILING_RETRY_MAX_MS: '1000',
      };
    case 'resource-aggregation':
      // Pools go stale and offline within seconds, so the tests can watch it happen.
      return {
        ...common,
        POOL_STALE_AFTER_SECONDS: '5',
        POOL_OFFLINE_AFTER_SECONDS: '8',
        SWEEP_INTERVAL_MS: '200',
      };
    case 'reporting':
      return { ...common, NODE_KEY: nodeKey };
    case 'runtime-monitoring':
      // Every service's metrics on its test port, and the periodic work within a second.
      return {
        ...common,
        SCRAPE_TARGETS: plan.services
          .map((s) => `${s.name}=http://127.0.0.1:${s.metricsPort}/metrics`)
          .join(','),
        SCRAPE_INTERVAL_MS: '500',
        SAMPLE_INTERVAL_MS: '500',
        ROLLUP_INTERVAL_MS: '200',
        ALERT_EVAL_INTERVAL_MS: '500',
        FEED_POLL_MS: '200',
      };
    case 'security':
      // Checks of loopback endpoints are allowed (every test server is one); time-driven risk
      // and the quarantine bucket within a second.
      return {
        ...common,
        POSTURE_ALLOW_PRIVATE_ADDRESSES: 'true',
        POSTURE_TIMEOUT_MS: '2000',
        RISK_REASSESS_INTERVAL_MS: '1000',
        QUARANTINE_SYNC_INTERVAL_MS: '1000',
      };
    default:
      return common;
  }
}

/** A free port not handed out already in this node (the kernel may offer a port twice). */
async function distinctFreePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await findFreePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no distinct free port after 20 attempts');
}

/**
 * Every service of services/*\/service.json as a BUILT process, each with its own database, sharing
 * a NATS server of the calling file's own and the test keys. Which services run, the addresses they
 * call each other on (AUTH_JWKS_ADDRESS of the JWKS provider, NATIONAL_NODE_ADDRESS, ...) and the
 * start waves come from the manifests through planNode, as for `npm start`; only the ports (free
 * ones), databases, keys and the test settings above differ.
 */
export async function startNode(settings: NodeSettings): Promise<NodeUnderTest> {
  // A port found free may be taken by another suite's process before a service binds it (suites
  // run side by side): a node that lost that race starts again, on other ports, twice at most.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startNodeOnce(settings);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

/** Error-level lines (pino's error and fatal) of a service's output, the newest `max`, each cut to `width`. */
export function errorLines(output: string, max = 20, width = 4_000): string[] {
  const lines = output
    .split('\n')
    .filter(
      (line) =>
        /"level":("error"|"fatal"|50|60)[,}]/.test(line) || /unexpected error in /.test(line),
    );
  return lines.slice(-max).map((line) => (line.length > width ? `${line.slice(0, width)}…` : line));
}

/**
 * Prints what the services logged at error level while the node ran, when they logged anything:
 * an INTERNAL a test saw (or did not look at) then comes with its stack and correlation id in the
 * test's output, instead of being lost with the processes.
 */
function reportUnexpectedErrors(services: readonly RunningService[]): void {
  const found = services.flatMap((service) =>
    errorLines(service.proc.output()).map((line) => `[${service.name}] ${line}`),
  );
  if (found.length > 0)
    console.warn(`the node's services logged ${found.length} error line(s):\n${found.join('\n')}`);
}

async function startNodeOnce(settings: NodeSettings): Promise<NodeUnderTest> {
  const manifests = loadManifests(WORKSPACE_ROOT);
  const started: RunningService[] = [];
  const closers: (() => void)[] = [];
  const nats = await startTestNats();
  let pki: TestPki | undefined;
  const stop = async (): Promise<Record<string, number | null>> => {
    for (const close of closers) close();
    const codes: Record<string, number | null> = {};
    await Promise.all(
      started.map(async (service) => {
        if (service.proc.child.exitCode === null && service.proc.child.signalCode === null) {
          service.proc.child.kill('SIGTERM');
        }
        codes[service.name] = await service.proc.exited;
      }),
    );
    // After they stopped: what they logged while shutting down counts too.
    reportUnexpectedErrors(started);
    await nats.stop();
    await pki?.remove();
    return codes;
  };
  try {
    const auth = await createTestAuth();
    const taken = new Set<number>();
    const ports = new Map<string, ServicePorts>();
    const databases = new Map<string, string>();
    for (const manifest of manifests) {
      ports.set(manifest.name, {
        grpcPort: await distinctFreePort(taken),
        metricsPort: await distinctFreePort(taken),
      });
      databases.set(manifest.name, await createTestDatabase(`e2e_${manifest.name}`));
    }
    const tls = settings.tls ? await nodeCertificates(manifests.map((m) => m.name)) : undefined;
    pki = tls?.pki;
    const credentials = tls
      ? clientCredentials({ tls: true, caFile: tls.pki.caFile, ...tls.client })
      : plaintext();
    const secrets = new Map<string, string>();
    const plan = planNode({
      manifests,
      host: '127.0.0.1',
      ports: (manifest) => required(ports, manifest.name),
      databaseUrl: (manifest) => required(databases, manifest.name),
      natsUrl: nats.url,
      keys: { publicKeys: auth.publicKeys, serviceSigningKey: auth.serviceSigningKey },
      secret: (name, format) => {
        if (!secrets.has(name)) secrets.set(name, newSecret(format));
        return required(secrets, name);
      },
      nodeEnv: 'test',
      logLevel: 'warn',
      tls:
        tls &&
        ((manifest) => ({ caFile: tls.pki.caFile, ...required(tls.services, manifest.name) })),
    });

    const launch = async (service: ServicePlan): Promise<RunningService> => {
      const proc = spawnService(service.name, {
        ...service.env,
        ...testEnv(service, settings, plan),
        ...settings.env,
      });
      const running = {
        name: service.name,
        address: service.grpcAddress,
        metricsPort: service.metricsPort,
        proc,
      };
      started.push(running);
      const served = manifests.find((m) => m.name === service.name)?.grpcServices[0];
      await waitForServing(service.grpcAddress, 60_000, proc, credentials, served);
      return running;
    };
    const running = new Map<string, RunningService>();
    for (const wave of plan.waves) {
      for (const service of await Promise.all(wave.map(launch))) running.set(service.name, service);
    }

    const addressOf = (grpcService: string): string => {
      const server = serverOf(manifests, grpcService);
      if (server === undefined) throw new Error(`no service.json lists ${grpcService}`);
      return required(running, server.name).address;
    };
    const client = <C>(grpcService: string, address = addressOf(grpcService)): PromiseClient<C> => {
      const created = createGrpcClient<C>(grpcService, {
        address,
        credentials,
      });
      closers.push(() => created.close());
      return created.api;
    };
    const clients: NodeClients = {
      participants: client('cinode.participant.v1.ParticipantService'),
      certification: client('cinode.participant.v1.CertificationService'),
      apiKeys: client('cinode.participant.v1.ApiKeyService'),
      qualifications: client('cinode.participant.v1.QualificationService'),
      tokens: client('cinode.credential.v1.TokenService'),
      identifiers: client('cinode.identifier.v1.IdentifierService'),
      resources: client('cinode.resource.v1.ResourceService'),
      selection: client('cinode.selection.v1.SelectionService'),
      market: client('cinode.market.v1.MarketService'),
      national: client('cinode.national.v1.NationalNodeService'),
      nationalAdmin: client('cinode.national.v1.NationalNodeAdminService'),
      identifierAudit: client(
        'cinode.audit.v1.AuditService',
        required(running, 'identifier').address,
      ),
      nationalAudit: client(
        'cinode.audit.v1.AuditService',
        required(running, 'national-node-mock').address,
      ),
    };
    const serviceCenter = required(running, 'service-center');
    const operatorBootstrapKey = plan.services.find((s) => s.name === serviceCenter.name)?.env
      .OPERATOR_BOOTSTRAP_KEY;
    if (operatorBootstrapKey === undefined)
      throw new Error('service-center has no OPERATOR_BOOTSTRAP_KEY in its service.json localEnv');
    return {
      serviceCenter,
      identifier: required(running, 'identifier'),
      nationalNode: required(running, 'national-node-mock'),
      nats,
      operatorBootstrapKey,
      tokenTtlSeconds: settings.tokenTtlSeconds,
      nationalToken: (roles) => auth.nationalToken(roles, 'national-e2e'),
      clients,
      auth,
      addressOf,
      serviceAddresses: () => new Map([...running].map(([name, r]) => [name, r.address])),
      exitCodeOf: (name) => required(running, name).proc.child.exitCode,
      metricsPortOf: (name) => required(running, name).metricsPort,
      outputOf: (name) => required(running, name).proc.output(),
      credentials,
      tls: tls && { pki: tls.pki, client: tls.client },
      stop,
    };
  } catch (error) {
    const logs = started.map((s) => `--- ${s.name} ---\n${s.proc.output()}`).join('\n');
    await stop();
    throw new Error(`${String(error)}\n${logs}`);
  }
}

/** A CA for one node, a certificate per service and one for the test's clients. */
async function nodeCertificates(services: readonly string[]): Promise<{
  pki: TestPki;
  services: Map<string, IssuedCertificate>;
  client: IssuedCertificate;
}> {
  const pki = await createTestPki('e2e-node');
  try {
    const issued = new Map<string, IssuedCertificate>();
    for (const name of services) issued.set(name, await pki.issue(name));
    return { pki, services: issued, client: await pki.issue('e2e-client') };
  } catch (error) {
    await pki.remove();
    throw error;
  }
}

function required<V>(map: ReadonlyMap<string, V>, key: string): V {
  const value = map.get(key);
  if (value === undefined)
    throw new Error(`${key}: not in this node (see services/*/service.json)`);
  return value;
}

/** Call options carrying a bearer token. */
export function as(token: string): { metadata: Metadata } {
  return { metadata: bearer(token) };
}

/**
 * A caller holding an API key: exchanges it for a token with TokenService/IssueToken and again
 * shortly before that token expires, as a long-running client would.
 */
export class KeyHolder {
  private current: { token: string; expiresAtMs: number } | undefined;
  /** The exchange in flight: calls made meanwhile wait for it instead of making their own. */
  private exchanging: Promise<string> | undefined;

  constructor(
    private readonly tokens: PromiseClient<TokenServiceClient>,
    readonly apiKey: string,
  ) {}

  /** Call options with a token valid for at least another ten seconds. */
  async options(): Promise<{ metadata: Metadata }> {
    return as(await this.token());
  }

  /**
   * A valid token, exchanged once however many calls want one at the same moment: the service
   * center counts every exchange in flight against the key's attempt limit (it cannot tell a
   * genuine key before checking it), so fifty at once from one address are refused past the limit.
   */
  token(): Promise<string> {
    if (this.current !== undefined && this.current.expiresAtMs - Date.now() >= 10_000)
      return Promise.resolve(this.current.token);
    this.exchanging ??= this.exchange().finally(() => {
      this.exchanging = undefined;
    });
    return this.exchanging;
  }

  private async exchange(): Promise<string> {
    const issued = await this.tokens.issueToken({ apiKey: this.apiKey });
    if (issued.expiresAt === undefined) throw new Error('IssueToken returned no expires_at');
    this.current = {
      token: issued.accessToken,
      expiresAtMs: fromTimestamp(issued.expiresAt).getTime(),
    };
    return this.current.token;
  }
}

/** Sum of a counter in a service's Prometheus text, over the series whose labels include all of `labels`. */
export async function counterValue(
  metricsPort: number,
  metric: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== metric) continue;
    const series = match[2];
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) {
      total += Number(match[3]);
    }
  }
  return total;
}
