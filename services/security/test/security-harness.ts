import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { SecurityServiceClient } from '@cinode/proto/gen/cinode/security/v1/security_service';
import { findFreePort, plaintext, type TestAuth, inProcessServiceSettings } from '@cinode/testing';
import { securityService } from '../src/service';

export interface SecurityUnderTest {
  service: RunningGrpcService;
  address: string;
  stop(): Promise<void>;
}

/** Starts the real security service in process, with fast periodic work. */
export async function startSecurity(
  databaseUrl: string,
  auth: TestAuth,
  natsUrl: string,
  env: Record<string, string> = {},
): Promise<SecurityUnderTest> {
  const port = await findFreePort();
  const config = securityService.loadConfig({
    ...inProcessServiceSettings({
      databaseUrl,
      natsUrl: natsUrl,
      publicKeys: auth.publicKeys,
      port,
    }),
    EVENT_RETRY_INITIAL_MS: '100',
    EVENT_RETRY_MAX_MS: '500',
    // No peers here: the backfill's rounds fail and are logged; the events fill the projections.
    RESOURCE_AGGREGATION_ADDRESS: '127.0.0.1:9',
    SERVICE_CENTER_ADDRESS: '127.0.0.1:9',
    POSTURE_ALLOW_PRIVATE_ADDRESSES: 'true',
    MAX_ATTACK_EVENTS_PER_SOURCE_PER_DAY: '50',
    POSTURE_TIMEOUT_MS: '2000',
    POSTURE_INTERVAL_MS: '0',
    RISK_REASSESS_INTERVAL_MS: '500',
    QUARANTINE_SYNC_INTERVAL_MS: '500',
    ...env,
  });
  const service = await startService(
    securityService,
    config,
    createLogger({ service: securityService.name, level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  return { service, address: `127.0.0.1:${port}`, stop: () => service.stop() };
}

export function securityClient(address: string): GrpcClient<SecurityServiceClient> {
  return createGrpcClient<SecurityServiceClient>('cinode.security.v1.SecurityService', {
    address,
    credentials: plaintext(),
    defaultTimeoutMs: 15_000,
  });
}
