import { createGrpcClient, fromTimestamp, type PromiseClient } from '@cinode/grpc';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type { IdentifierServiceClient } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type {
  NationalNodeAdminServiceClient,
  NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type {
  ApiKeyServiceClient,
  CertificationServiceClient,
  ParticipantServiceClient,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import {
  bearer,
  createTestAuth,
  createTestDatabase,
  findFreePort,
  spawnService,
  startTestNats,
  waitForServing,
  type ServiceProcess,
  type TestNats,
} from '@cinode/testing';
import type { Metadata } from '@grpc/grpc-js';
import { generateApiKey } from '@cinode/common';
import { generateKey32 } from './fixtures';

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
  tokens: PromiseClient<TokenServiceClient>;
  identifiers: PromiseClient<IdentifierServiceClient>;
  national: PromiseClient<NationalNodeServiceClient>;
  nationalAdmin: PromiseClient<NationalNodeAdminServiceClient>;
}

export interface NodeUnderTest {
  serviceCenter: RunningService;
  identifier: RunningService;
  nationalNode: RunningService;
  nats: TestNats;
  /** The bootstrap operator's API key (OPERATOR_BOOTSTRAP_KEY). */
  operatorBootstrapKey: string;
  tokenTtlSeconds: number;
  clients: NodeClients;
  /** SIGTERMs every service, closes the clients, stops NATS; resolves with each exit code. */
  stop(): Promise<Record<string, number | null>>;
}

export interface NodeSettings {
  tokenTtlSeconds: number;
}

/**
 * The service center, the identifier service and the national node mock as BUILT processes, each
 * with its own database, sharing a NATS server of the calling file's own and the test keys. Every
 * service verifies participant tokens with the service center's JWKS (AUTH_JWKS_ADDRESS) and the
 * static test keys, the service key among them, as `npm start` wires it.
 */
export async function startNode(settings: NodeSettings): Promise<NodeUnderTest> {
  const started: RunningService[] = [];
  const closers: (() => void)[] = [];
  const nats = await startTestNats();
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
    await nats.stop();
    return codes;
  };
  try {
    const auth = await createTestAuth();
    const operatorBootstrapKey = generateApiKey().key;
    const centerPort = await findFreePort();
    const centerAddress = `127.0.0.1:${centerPort}`;
    const common = {
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      AUTH_SERVICE_SIGNING_KEY: auth.serviceSigningKey,
      AUTH_JWKS_ADDRESS: centerAddress,
      NATS_URL: nats.url,
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '2000',
    };

    const launch = async (
      name: string,
      port: number,
      env: Record<string, string>,
    ): Promise<RunningService> => {
      const metricsPort = await findFreePort();
      const address = `127.0.0.1:${port}`;
      const proc = spawnService(name, {
        ...common,
        DATABASE_URL: await createTestDatabase(`e2e_${name}`),
        GRPC_PORT: String(port),
        METRICS_PORT: String(metricsPort),
        ...env,
      });
      const service = { name, address, metricsPort, proc };
      started.push(service);
      await waitForServing(address, 60_000, proc);
      return service;
    };

    // The service center first: the others fetch its JWKS.
    const serviceCenter = await launch('service-center', centerPort, {
      TOKEN_TTL_SECONDS: String(settings.tokenTtlSeconds),
      SIGNING_KEY_ENCRYPTION_KEY: generateKey32(),
      OPERATOR_BOOTSTRAP_KEY: operatorBootstrapKey,
    });
    const nationalPort = await findFreePort();
    const [nationalNode, identifier] = await Promise.all([
      launch('national-node-mock', nationalPort, {}),
      launch('identifier', await findFreePort(), {
        NATIONAL_NODE_ADDRESS: `127.0.0.1:${nationalPort}`,
        NATIONAL_NODE_TIMEOUT_MS: '2000',
        NODE_KEY: `e2e-entry-to-market-${nationalPort}`,
        REGISTRATION_RETRY_INITIAL_MS: '100',
        REGISTRATION_RETRY_MAX_MS: '1000',
        FILING_RETRY_INITIAL_MS: '200',
        FILING_RETRY_MAX_MS: '1000',
      }),
    ]);

    const client = <C>(service: string, address: string): PromiseClient<C> => {
      const created = createGrpcClient<C>(service, { address });
      closers.push(() => created.close());
      return created.api;
    };
    const clients: NodeClients = {
      participants: client('cinode.participant.v1.ParticipantService', serviceCenter.address),
      certification: client('cinode.participant.v1.CertificationService', serviceCenter.address),
      apiKeys: client('cinode.participant.v1.ApiKeyService', serviceCenter.address),
      tokens: client('cinode.credential.v1.TokenService', serviceCenter.address),
      identifiers: client('cinode.identifier.v1.IdentifierService', identifier.address),
      national: client('cinode.national.v1.NationalNodeService', nationalNode.address),
      nationalAdmin: client('cinode.national.v1.NationalNodeAdminService', nationalNode.address),
    };
    return {
      serviceCenter,
      identifier,
      nationalNode,
      nats,
      operatorBootstrapKey,
      tokenTtlSeconds: settings.tokenTtlSeconds,
      clients,
      stop,
    };
  } catch (error) {
    const logs = started.map((s) => `--- ${s.name} ---\n${s.proc.output()}`).join('\n');
    await stop();
    throw new Error(`${String(error)}\n${logs}`);
  }
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

  constructor(
    private readonly tokens: PromiseClient<TokenServiceClient>,
    readonly apiKey: string,
  ) {}

  /** Call options with a token valid for at least another ten seconds. */
  async options(): Promise<{ metadata: Metadata }> {
    return as(await this.token());
  }

  async token(): Promise<string> {
    if (this.current === undefined || this.current.expiresAtMs - Date.now() < 10_000) {
      const issued = await this.tokens.issueToken({ apiKey: this.apiKey });
      if (issued.expiresAt === undefined) throw new Error('IssueToken returned no expires_at');
      this.current = {
        token: issued.accessToken,
        expiresAtMs: fromTimestamp(issued.expiresAt).getTime(),
      };
    }
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
