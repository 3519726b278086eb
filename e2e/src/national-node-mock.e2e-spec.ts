import { status as GrpcStatus } from '@grpc/grpc-js';
import { createGrpcClient, type PromiseClient } from '@cinode/grpc';
import {
  NodeType,
  type NationalNodeServiceClient,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  createTestAuth,
  createTestDatabase,
  expectGrpcError,
  findFreePort,
  spawnService,
  waitForServing,
  type TestAuth,
  plaintext,
} from '@cinode/testing';

type NationalApi = PromiseClient<NationalNodeServiceClient>;

/**
 * The built national node mock as a real process: configuration checked before start-up,
 * migrations, serving, metrics, JSON logs, and a clean stop on SIGTERM.
 */
describe('national-node-mock process', () => {
  let auth: TestAuth;
  let env: Record<string, string>;
  let address: string;
  let metricsPort: number;

  beforeAll(async () => {
    auth = await createTestAuth();
    const grpcPort = await findFreePort();
    metricsPort = await findFreePort();
    address = `127.0.0.1:${grpcPort}`;
    env = {
      DATABASE_URL: await createTestDatabase('e2e_mock'),
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      GRPC_PORT: String(grpcPort),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    };
  });

  /** Starts the process, waits for SERVING, runs `use`, stops it with SIGTERM; returns its output. */
  async function withService(use: (api: NationalApi) => Promise<void>): Promise<string> {
    const proc = spawnService('national-node-mock', env);
    const token = await auth.nationalToken(['service'], 'identifier');
    const client = createGrpcClient<NationalNodeServiceClient>(
      'cinode.national.v1.NationalNodeService',
      {
        address,
        credentials: plaintext(),
        token: () => token,
      },
    );
    try {
      await waitForServing(address, 30_000, proc);
      await use(client.api);
    } finally {
      client.close();
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    return proc.output();
  }

  it('refuses to start on bad configuration, listing every bad key and no secret', async () => {
    const proc = spawnService('national-node-mock', {
      GRPC_PORT: 'seventy',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://user:hunter2@db/x',
    });
    expect(await proc.exited).toBe(2);
    for (const key of ['GRPC_PORT', 'LOG_LEVEL', 'DATABASE_URL', 'AUTH_JWT_PUBLIC_KEYS']) {
      expect(proc.output()).toContain(key);
    }
    expect(proc.output()).not.toContain('hunter2');
  });

  it('migrates, serves, exports metrics, logs JSON and keeps its data across a restart', async () => {
    let nodeCode = '';
    const firstRun = await withService(async (api) => {
      const registered = await api.registerNode({
        nodeKey: 'e2e-install',
        name: 'E2E node',
        nodeType: NodeType.NODE_TYPE_INDUSTRY,
        regionCode: '110000',
        operatorName: 'E2E Operator',
        endpoint: '',
      });
      nodeCode = registered.node!.nodeCode;
      expect(nodeCode).toMatch(/^I\d{4}$/);
      await expectGrpcError(api.getNode({ nodeCode: 'bad' }), GrpcStatus.INVALID_ARGUMENT);

      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(
        /grpc_server_handled_total\{[^}]*grpc_method="RegisterNode",grpc_code="OK"[^}]*\} 1/,
      );
      expect(metrics).toMatch(
        /grpc_server_handled_total\{[^}]*grpc_method="GetNode",grpc_code="INVALID_ARGUMENT"/,
      );
      expect(metrics).toContain('cinode_db_pool_connections');
    });
    // Its own migrations and the platform's (idempotency keys, audit trail, platform secrets).
    expect(firstRun).toMatch(/applied [5-9] migration/);
    const logLines = firstRun.split('\n').filter((line) => line.trim() !== '');
    for (const line of logLines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.service).toBe('national-node-mock');
    }
    expect(firstRun).not.toContain(env.DATABASE_URL);

    const secondRun = await withService(async (api) => {
      const found = await api.getNode({ nodeCode });
      expect(found.node?.nodeKey).toBe('e2e-install');
    });
    expect(secondRun).not.toContain('applied');
  });
});
