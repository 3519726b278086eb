import {
  eventOf,
  type EventContract,
  type EventMessage,
  type ParticipantEventData,
  type ParticipantStateName,
} from '@cinode/contracts';
import { createEnvelope, encodeEnvelope } from '@cinode/events';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { IdentifierServiceClient } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import type {
  NationalNodeAdminServiceClient,
  NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  createTestDatabase,
  findFreePort,
  spawnService,
  waitForServing,
  type ServiceProcess,
  type TestAuth,
  plaintext,
} from '@cinode/testing';
import { connect, type NatsConnection } from 'nats';
import { identifierService } from '../src/service';

/** The national node mock, run as the built process, as in production. */
export interface MockProcess {
  address: string;
  proc: ServiceProcess;
  operatorReads: GrpcClient<NationalNodeServiceClient>;
  admin: GrpcClient<NationalNodeAdminServiceClient>;
  setOutage(outage: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** The mock trusts the test keys, the node's service key among them. */
export async function startMockProcess(auth: TestAuth): Promise<MockProcess> {
  const port = await findFreePort();
  const address = `127.0.0.1:${port}`;
  const proc = spawnService('national-node-mock', {
    DATABASE_URL: await createTestDatabase('identifier_mock'),
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '1000',
    // In process, the event loop is the test's too: its lag is not the service's load.
    GRPC_SHED_LAG_MS: '0',
  });
  await waitForServing(address, 30_000, proc);
  const operatorToken = await auth.nationalToken(['operator'], 'mock-operator');
  const settings = { address, credentials: plaintext(), token: () => operatorToken };
  const operatorReads = createGrpcClient<NationalNodeServiceClient>(
    'cinode.national.v1.NationalNodeService',
    settings,
  );
  const admin = createGrpcClient<NationalNodeAdminServiceClient>(
    'cinode.national.v1.NationalNodeAdminService',
    settings,
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

/** Starts the real identifier service in process, from its service definition. */
export async function startIdentifier(
  databaseUrl: string,
  auth: TestAuth,
  nationalNodeAddress: string,
  natsUrl: string,
  env: Record<string, string> = {},
): Promise<IdentifierUnderTest> {
  const port = await findFreePort();
  const config = identifierService.loadConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
    AUTH_SERVICE_SIGNING_KEY: auth.serviceSigningKey,
    NATIONAL_NODE_ADDRESS: nationalNodeAddress,
    NATIONAL_NODE_TIMEOUT_MS: '2000',
    NODE_KEY: `test-install-${port}`,
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '1000',
    // In process, the event loop is the test's too: its lag is not the service's load.
    GRPC_SHED_LAG_MS: '0',
    LOG_LEVEL: 'warn',
    REGISTRATION_RETRY_INITIAL_MS: '100',
    REGISTRATION_RETRY_MAX_MS: '500',
    FILING_RETRY_INITIAL_MS: '100',
    FILING_RETRY_MAX_MS: '500',
    EVENT_RETRY_INITIAL_MS: '100',
    EVENT_RETRY_MAX_MS: '500',
    ...env,
  });
  const service = await startService(
    identifierService,
    config,
    createLogger({
      service: identifierService.name,
      level: process.env.TEST_LOG_LEVEL ?? 'silent',
    }),
  );
  return { service, address: `127.0.0.1:${port}`, stop: () => service.stop() };
}

export function identifierClient(
  address: string,
  token: string,
): GrpcClient<IdentifierServiceClient> {
  return createGrpcClient<IdentifierServiceClient>('cinode.identifier.v1.IdentifierService', {
    address,
    credentials: plaintext(),
    token: () => token,
    defaultTimeoutMs: 10_000,
  });
}

/** A participant as the service center's record holds it. */
export interface ParticipantRecord {
  legalName: string;
  creditCode: string | null;
}

/**
 * Publishes participant lifecycle events the way the service center's outbox relay does: each one
 * checked against its contract, in an envelope, with the participant's next version (1 for its
 * first event) unless a test sets one.
 */
export class ParticipantEvents {
  private readonly last = new Map<
    string,
    { version: number; state: ParticipantStateName; record: ParticipantRecord }
  >();

  private constructor(private readonly nc: NatsConnection) {}

  static async connect(natsUrl: string): Promise<ParticipantEvents> {
    return new ParticipantEvents(await connect({ servers: natsUrl }));
  }

  /**
   * The participant's next event, leaving it in `state`; returns the data published (its version
   * included) and the envelope id. `record` sets the legal name and credit code from now on.
   */
  async publish(
    contract: EventContract<ParticipantEventData>,
    participantId: string,
    state: ParticipantStateName,
    options: { record?: ParticipantRecord; version?: number } = {},
  ): Promise<{ data: ParticipantEventData; eventId: string }> {
    const before = this.last.get(participantId);
    const record = options.record ??
      before?.record ?? { legalName: 'Example Cloud Ltd.', creditCode: '91310000MA1FL0000X' };
    const data: ParticipantEventData = {
      participantId,
      version: options.version ?? (before?.version ?? 0) + 1,
      kind: 'COMPUTE_PROVIDER',
      state,
      previousState: before?.state ?? null,
      legalName: record.legalName,
      creditCode: record.creditCode,
      reason: `test ${contract.type.split('.').at(-1) ?? ''}`,
      actor: 'op-1',
    };
    if (data.version > (before?.version ?? 0))
      this.last.set(participantId, { version: data.version, state, record });
    return { data, eventId: await this.publishMessage(eventOf(contract, data)) };
  }

  /** Any message in an envelope, contract or not (for events a consumer must refuse). */
  async publishMessage(message: EventMessage): Promise<string> {
    const envelope = createEnvelope('service-center', message);
    await this.nc
      .jetstream()
      .publish(envelope.type, encodeEnvelope(envelope), { msgID: envelope.id });
    return envelope.id;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
