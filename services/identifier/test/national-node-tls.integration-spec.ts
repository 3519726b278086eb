import { status as GrpcStatus } from '@grpc/grpc-js';
import { ServiceTokenSource, signingKeyFromPrivateJwk } from '@cinode/auth';
import { clientCredentials } from '@cinode/grpc';
import { NodeType } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  TEST_TOKEN_SETTINGS,
  createTestAuth,
  createTestDatabase,
  createTestPki,
  expectGrpcError,
  findFreePort,
  spawnService,
  waitForServing,
  type IssuedCertificate,
  type ServiceProcess,
  type TestAuth,
  type TestPki,
} from '@cinode/testing';
import { loadIdentifierConfig } from '../src/config';
import { NationalNodeGateway } from '../src/national/national-node.gateway';

/**
 * Issue 7: the national node gateway passed no credentials, so a national node behind TLS (the
 * chart's production values: mTLS, port 443) could never be registered with nor filed at. The
 * gateway takes NATIONAL_NODE_TLS_* (or, unset, the node's own GRPC_CLIENT_TLS_*).
 */
describe(`${NationalNodeGateway.name} over mTLS`, () => {
  let auth: TestAuth;
  let pki: TestPki;
  let identifierCert: IssuedCertificate;
  let address: string;
  let mock: ServiceProcess | undefined;
  const gateways: NationalNodeGateway[] = [];

  beforeAll(async () => {
    auth = await createTestAuth();
    pki = await createTestPki('national-node');
    const server = await pki.issue('national-node');
    identifierCert = await pki.issue('identifier');
    const port = await findFreePort();
    address = `127.0.0.1:${port}`;
    mock = spawnService('national-node-mock', {
      DATABASE_URL: await createTestDatabase('national_tls'),
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      GRPC_PORT: String(port),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '1000',
      // In process, the event loop is the test's too: its lag is not the service's load.
      GRPC_SHED_LAG_MS: '0',
      GRPC_TLS_CERT_FILE: server.certFile,
      GRPC_TLS_KEY_FILE: server.keyFile,
      GRPC_TLS_CA_FILE: pki.caFile,
    });
    await waitForServing(
      address,
      30_000,
      mock,
      clientCredentials({ tls: true, caFile: pki.caFile, ...identifierCert }),
    );
  });

  afterAll(async () => {
    for (const gateway of gateways) gateway.onApplicationShutdown();
    if (mock) {
      mock.child.kill('SIGTERM');
      await mock.exited;
    }
    await pki?.remove();
  });

  function gateway(env: Record<string, string>): NationalNodeGateway {
    const config = loadIdentifierConfig({
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/unused',
      NATS_URL: 'nats://127.0.0.1:1',
      AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
      NATIONAL_NODE_ADDRESS: address,
      NATIONAL_NODE_TIMEOUT_MS: '3000',
      ...env,
    });
    const tokens = new ServiceTokenSource(
      'identifier',
      signingKeyFromPrivateJwk(auth.serviceSigningKey),
      TEST_TOKEN_SETTINGS,
    );
    const created = new NationalNodeGateway(config, tokens);
    gateways.push(created);
    return created;
  }

  const registration = (nodeKey: string) => ({
    nodeKey,
    name: 'TLS test node',
    nodeType: NodeType.NODE_TYPE_REGIONAL,
    regionCode: '310000',
    operatorName: 'TLS Test Operator Co.',
    endpoint: '',
  });

  it('registers the node with the CA, certificate and key of NATIONAL_NODE_TLS_*', async () => {
    const national = gateway({
      NATIONAL_NODE_TLS_CA_FILE: pki.caFile,
      NATIONAL_NODE_TLS_CERT_FILE: identifierCert.certFile,
      NATIONAL_NODE_TLS_KEY_FILE: identifierCert.keyFile,
    });
    const { node, created } = await national.registerNode(registration('tls-node-own-group'));
    expect(created).toBe(true);
    expect(node?.nodeCode).toMatch(/^R\d{4}$/);
  });

  it("with NATIONAL_NODE_TLS_* unset, calls the national node as the node's own services", async () => {
    const national = gateway({
      GRPC_CLIENT_TLS_CA_FILE: pki.caFile,
      GRPC_CLIENT_TLS_CERT_FILE: identifierCert.certFile,
      GRPC_CLIENT_TLS_KEY_FILE: identifierCert.keyFile,
    });
    const { created } = await national.registerNode(registration('tls-node-inherited'));
    expect(created).toBe(true);
  });

  it('is refused in plaintext and without a client certificate', async () => {
    await expectGrpcError(
      gateway({}).registerNode(registration('tls-node-plaintext')),
      GrpcStatus.UNAVAILABLE,
    );
    await expectGrpcError(
      gateway({ NATIONAL_NODE_TLS_CA_FILE: pki.caFile }).registerNode(
        registration('tls-node-no-certificate'),
      ),
      GrpcStatus.UNAVAILABLE,
    );
  });
});
