import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { TokenIssuer, ServiceCenterJwks, generateSigningKey, type SigningKey } from '@cinode/auth';
import { serverCredentials } from '@cinode/grpc';
import { cinodePackageDefinition } from '@cinode/proto';
import {
  TEST_TOKEN_SETTINGS,
  createTestAuth,
  createTestPki,
  expectGrpcError,
  plaintext,
  type TestAuth,
  type TestPki,
} from '@cinode/testing';
import { startKitProbe, type KitProbeServer } from './kit-probe';

/**
 * Issue 7: the JWKS fetch passed no credentials, so behind a service center with mTLS a service
 * never learnt its keys. A service calls the JWKS with GRPC_CLIENT_TLS_* (the kit builds the
 * credentials once and hands them to the auth module and to the service's own clients).
 */
describe('the service center JWKS over mTLS', () => {
  let auth: TestAuth;
  let pki: TestPki;
  let jwksServer: Server;
  let jwksAddress: string;
  /** A signing key only the mTLS JWKS publishes, as the service center's is. */
  let centerKey: SigningKey;
  let probe: KitProbeServer | undefined;

  beforeAll(async () => {
    auth = await createTestAuth();
    pki = await createTestPki('kit-jwks');
    centerKey = await generateSigningKey('center-key-1');
    const center = await pki.issue('service-center');
    jwksServer = new Server();
    const definition = cinodePackageDefinition()[
      'cinode.credential.v1.TokenService'
    ] as ServiceDefinition;
    jwksServer.addService(definition, {
      getJwks: (_call: ServerUnaryCall<unknown, unknown>, reply: sendUnaryData<unknown>) => {
        const { kid, kty, crv, x, alg, use } = centerKey.publicJwk;
        reply(null, {
          keys: [{ kid, kty, crv, x, alg, use }],
          cacheFor: { seconds: 60, nanos: 0 },
        });
      },
    });
    const credentials: ServerCredentials = serverCredentials({
      certFile: center.certFile,
      keyFile: center.keyFile,
      caFile: pki.caFile,
    });
    const port = await new Promise<number>((resolve, reject) =>
      jwksServer.bindAsync('127.0.0.1:0', credentials, (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    jwksAddress = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await probe?.stop();
    await new Promise<void>((resolve) => jwksServer?.tryShutdown(() => resolve()));
    await pki?.remove();
  });

  it('refuses a plaintext JWKS client', async () => {
    const jwks = new ServiceCenterJwks(jwksAddress, plaintext());
    try {
      await expectGrpcError(jwks.fetch(), GrpcStatus.UNAVAILABLE);
    } finally {
      jwks.close();
    }
  });

  it('a service verifies a token with the keys it fetched over mTLS with GRPC_CLIENT_TLS_*', async () => {
    const client = await pki.issue('kit-probe');
    probe = await startKitProbe(auth, {
      AUTH_JWKS_ADDRESS: jwksAddress,
      GRPC_CLIENT_TLS_CA_FILE: pki.caFile,
      GRPC_CLIENT_TLS_CERT_FILE: client.certFile,
      GRPC_CLIENT_TLS_KEY_FILE: client.keyFile,
    });
    const token = await new TokenIssuer(centerKey, TEST_TOKEN_SETTINGS).issue({
      subject: 'operator-from-center',
      roles: ['operator'],
      ttlSeconds: 300,
    });
    const { audit } = probe.clientAs(token);
    const listed = await audit.api.listAuditRecords({
      pageSize: 1,
      pageToken: '',
      actor: '',
      objectType: '',
      objectId: '',
      method: '',
      outcome: '',
      startTime: undefined,
      endTime: undefined,
    });
    expect(listed.records).toEqual([]);
  });
});
