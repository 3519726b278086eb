import { generateSigningKey } from '@cinode/auth';
import { createEnvelope, encodeEnvelope } from '@cinode/events';
import {
  createGrpcClient,
  startGrpcService,
  type GrpcClient,
  type RunningGrpcService,
} from '@cinode/grpc';
import { createLogger } from '@cinode/logging';
import type { IdentifierServiceClient } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type {
  NationalNodeAdminServiceClient,
  NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  createTestAuth,
  createTestDatabase,
  findFreePort,
  spawnService,
  waitForServing,
  type ServiceProcess,
  type TestAuth,
} from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { IdentifierModule } from '../src/app.module';
import { SERVICE_NAME, loadIdentifierConfig } from '../src/config';
import { SERVED_SERVICES } from '../src/served-services';

/** Test auth plus the node's service key, trusted by the mock and used by the identifier service. */
export interface HarnessAuth extends TestAuth {
  /** JWKS with the participant test key and the service key. */
  allPublicKeys: string;
  serviceSigningKey: string;
}

export async function createHarnessAuth(): Promise<HarnessAuth> {
  const auth = await createTestAuth();
  const serviceKey = await generateSigningKey('node-service-key', 'service');
  const keys = (JSON.parse(auth.publicKeys) as { keys: unknown[] }).keys;
  return {
    ...auth,
    allPublicKeys: JSON.stringify({ keys: [...keys, serviceKey.publicJwk] }),
    serviceSigningKey: JSON.stringify(serviceKey.privateJwk),
  };
}

/** The national node mock, run as the built process, as in production. */
export interface MockProcess {
  address: string;
  proc: ServiceProcess;
  operatorReads: GrpcClient<NationalNodeServiceClient>;
  admin: GrpcClient<NationalNodeAdminServiceClient>;
  setOutage(outage: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startMockProcess(auth: HarnessAuth): Promise<MockProcess> {
  const port = await findFreePort();
  const address = `127.0.0.1:${port}`;
  const proc = spawnService('national-node-mock', {
    DATABASE_URL: await createTestDatabase('identifier_mock'),
    AUTH_JWT_PUBLIC_KEYS: auth.allPublicKeys,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '1000',
  });
  await waitForServing(address, 30_000, proc);
  const operatorToken = await auth.token(['operator'], 'mock-operator');
  const operatorReads = createGrpcClient<NationalNodeServiceClient>(
    'cinode.national.v1.NationalNodeService',
    {
      address,
      token: () => operatorToken,
    },
  );
  const admin = createGrpcClient<NationalNodeAdminServiceClient>(
    'cinode.national.v1.NationalNodeAdminService',
    {
      address,
      token: () => operatorToken,
    },
  );
  return {
    address,
    proc,
    operatorReads,
    admin,
    setOutage: async (outage) => {
      await admin.api.setFaultInjection({
        faults: { unavailableRatio: 0, addedLatency: { seconds: 0, nanos: 0 }, outage },
      });
    },
    stop: async () => {
      operatorReads.close();
      admin.close();
      proc.child.kill('SIGTERM');
      await proc.exited;
    },
  };
}

export interface IdentifierUnderTest {
  service: RunningGrpcService;
  address: string;
  stop(): Promise<void>;
}

/** Starts the real identifier service in process. */
export async function startIdentifier(
  databaseUrl: string,
  auth: HarnessAuth,
  nationalNodeAddress: string,
  natsUrl: string,
  env: Record<string, string> = {},
): Promise<IdentifierUnderTest> {
  const port = await findFreePort();
  const config = loadIdentifierConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    AUTH_JWT_PUBLIC_KEYS: auth.allPublicKeys,
    AUTH_SERVICE_SIGNING_KEY: auth.serviceSigningKey,
    NATIONAL_NODE_ADDRESS: nationalNodeAddress,
    NATIONAL_NODE_TIMEOUT_MS: '2000',
    NODE_KEY: `test-install-${port}`,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '1000',
    LOG_LEVEL: 'warn',
    REGISTRATION_RETRY_INITIAL_MS: '100',
    REGISTRATION_RETRY_MAX_MS: '500',
    FILING_RETRY_INITIAL_MS: '100',
    FILING_RETRY_MAX_MS: '500',
    ...env,
  });
  const service = await startGrpcService({
    name: SERVICE_NAME,
    module: IdentifierModule.forConfig(config),
    services: SERVED_SERVICES,
    config,
    logger: createLogger({ service: SERVICE_NAME, level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  return { service, address: `127.0.0.1:${port}`, stop: () => service.stop() };
}

export function identifierClient(
  address: string,
  token: string,
): GrpcClient<IdentifierServiceClient> {
  return createGrpcClient<IdentifierServiceClient>('cinode.identifier.v1.IdentifierService', {
    address,
    token: () => token,
    defaultTimeoutMs: 10_000,
  });
}

/** Publishes participant events the way the service center's outbox relay does. */
export class ParticipantEvents {
  private constructor(private readonly nc: NatsConnection) {}

  static async connect(natsUrl: string): Promise<ParticipantEvents> {
    return new ParticipantEvents(await connect({ servers: natsUrl }));
  }

  async publish(
    verb: string,
    participantId: string,
    state: string,
    previousState = '',
    kind = 'compute_provider',
  ): Promise<void> {
    const envelope = createEnvelope('service-center', {
      type: `cinode.participant.participant.${verb}`,
      data: { participantId, kind, state, previousState, reason: `test ${verb}`, actor: 'op-1' },
    });
    await this.nc
      .jetstream()
      .publish(envelope.type, encodeEnvelope(envelope), { msgID: envelope.id });
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** Polls until `probe` returns a value, failing after the bound with the last error or value seen. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
