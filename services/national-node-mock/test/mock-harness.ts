import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type {
  NationalNodeAdminServiceClient,
  NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { findFreePort, type TestAuth, plaintext, inProcessServiceSettings } from '@cinode/testing';
import { SERVICE_NAME } from '../src/config';
import { nationalNodeMock } from '../src/service';

export interface MockUnderTest {
  service: RunningGrpcService;
  address: string;
  /** Client acting as a regional node's internal service. */
  node: GrpcClient<NationalNodeServiceClient>;
  /** Client acting as an operator. */
  admin: GrpcClient<NationalNodeAdminServiceClient>;
  operatorReads: GrpcClient<NationalNodeServiceClient>;
  stop(): Promise<void>;
}

/** Starts the real mock, in process, on its own database and a free loopback port. */
export async function startMock(
  databaseUrl: string,
  auth: TestAuth,
  env: Record<string, string> = {},
): Promise<MockUnderTest> {
  const port = await findFreePort();
  const config = nationalNodeMock.loadConfig({
    ...inProcessServiceSettings({ databaseUrl: databaseUrl, publicKeys: auth.publicKeys, port }),
    ...env,
  });
  const service = await startService(
    nationalNodeMock,
    config,
    createLogger({ service: SERVICE_NAME, level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  const address = `127.0.0.1:${port}`;
  const serviceToken = await auth.nationalToken(['service'], 'identifier');
  const operatorToken = await auth.nationalToken(['operator'], 'op-1');
  const node = createGrpcClient<NationalNodeServiceClient>(
    'cinode.national.v1.NationalNodeService',
    {
      address,
      credentials: plaintext(),
      token: () => serviceToken,
      defaultTimeoutMs: 15_000,
    },
  );
  const operatorReads = createGrpcClient<NationalNodeServiceClient>(
    'cinode.national.v1.NationalNodeService',
    {
      address,
      credentials: plaintext(),
      token: () => operatorToken,
      defaultTimeoutMs: 15_000,
    },
  );
  const admin = createGrpcClient<NationalNodeAdminServiceClient>(
    'cinode.national.v1.NationalNodeAdminService',
    {
      address,
      credentials: plaintext(),
      token: () => operatorToken,
      defaultTimeoutMs: 15_000,
    },
  );
  return {
    service,
    address,
    node,
    admin,
    operatorReads,
    stop: async () => {
      node.close();
      admin.close();
      operatorReads.close();
      await service.stop();
    },
  };
}
