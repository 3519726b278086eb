import { randomBytes } from 'node:crypto';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { TokenServiceClient } from '@cinode/proto/gen/cinode/credential/v1/token_service';
import type {
  ApiKeyServiceClient,
  CertificationServiceClient,
  ParticipantServiceClient,
  QualificationServiceClient,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { findFreePort, type TestAuth, plaintext, inProcessServiceSettings } from '@cinode/testing';
import { SERVICE_NAME } from '../src/config';
import { serviceCenter } from '../src/service';

/**
 * One key-encryption key for every start in this test process: a service center restarted on the
 * same database must decrypt the signing keys it stored before.
 */
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

export interface Clients {
  participants: GrpcClient<ParticipantServiceClient>;
  certification: GrpcClient<CertificationServiceClient>;
  qualifications: GrpcClient<QualificationServiceClient>;
  apiKeys: GrpcClient<ApiKeyServiceClient>;
  tokens: GrpcClient<TokenServiceClient>;
  close(): void;
}

export interface ServiceCenterUnderTest {
  service: RunningGrpcService;
  address: string;
  /** Clients sending the token `token()` returns (none when it returns ""). */
  clientsAs(token?: () => string | Promise<string>): Clients;
  stop(): Promise<void>;
}

/** Starts the real service center, in process, on its own database, NATS and a free port. */
export async function startServiceCenter(
  databaseUrl: string,
  natsUrl: string,
  auth: TestAuth,
  env: Record<string, string> = {},
): Promise<ServiceCenterUnderTest> {
  const port = await findFreePort();
  const config = serviceCenter.loadConfig({
    ...inProcessServiceSettings({
      databaseUrl,
      natsUrl: natsUrl,
      publicKeys: auth.publicKeys,
      port,
    }),
    SIGNING_KEY_ENCRYPTION_KEY: ENCRYPTION_KEY,
    QUALIFICATION_SWEEP_INTERVAL_MS: '0',
    // The market's peers do not run here (the market is tested through the whole node, in e2e):
    // a closed port answers its calls UNAVAILABLE.
    COMPUTE_SELECTION_ADDRESS: '127.0.0.1:1',
    RESOURCE_AGGREGATION_ADDRESS: '127.0.0.1:1',
    ORDER_RECOVERY_INTERVAL_MS: '0',
    ...env,
  });
  const service = await startService(
    serviceCenter,
    config,
    createLogger({ service: SERVICE_NAME, level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  const address = `127.0.0.1:${port}`;
  const open: Clients[] = [];
  const clientsAs = (token?: () => string | Promise<string>): Clients => {
    const settings = { address, credentials: plaintext(), token, defaultTimeoutMs: 15_000 };
    const clients: Clients = {
      participants: createGrpcClient<ParticipantServiceClient>(
        'cinode.participant.v1.ParticipantService',
        settings,
      ),
      certification: createGrpcClient<CertificationServiceClient>(
        'cinode.participant.v1.CertificationService',
        settings,
      ),
      qualifications: createGrpcClient<QualificationServiceClient>(
        'cinode.participant.v1.QualificationService',
        settings,
      ),
      apiKeys: createGrpcClient<ApiKeyServiceClient>(
        'cinode.participant.v1.ApiKeyService',
        settings,
      ),
      tokens: createGrpcClient<TokenServiceClient>('cinode.credential.v1.TokenService', settings),
      close: () => {
        for (const c of [
          clients.participants,
          clients.certification,
          clients.qualifications,
          clients.apiKeys,
          clients.tokens,
        ])
          c.close();
      },
    };
    open.push(clients);
    return clients;
  };
  return {
    service,
    address,
    clientsAs,
    stop: async () => {
      for (const c of open) c.close();
      await service.stop();
    },
  };
}
