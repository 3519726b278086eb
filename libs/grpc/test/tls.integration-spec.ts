import { status as GrpcStatus, type ChannelCredentials } from '@grpc/grpc-js';
import { baseServiceSchema, grpcClientTransport, loadConfig } from '@cinode/config';
import {
  clientCredentials,
  createGrpcClient,
  isGrpcError,
  type ClientSettings,
} from '@cinode/grpc';
import type {
  ProbeResponse,
  ProbeServiceClient,
} from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import {
  createTestAuth,
  createTestPki,
  expectGrpcError,
  plaintext,
  type IssuedCertificate,
  type TestAuth,
  type TestPki,
} from '@cinode/testing';
import { PROBE_SERVICE, startProbeServer, type ProbeServer } from './probe-server';

/**
 * Issue 7: TLS was server-only. A service's calls to its peers take the CA, certificate and key from
 * its config (GRPC_CLIENT_TLS_*), and a server with mTLS refuses every caller it cannot verify.
 */
describe('gRPC over TLS and mTLS', () => {
  let auth: TestAuth;
  let token: string;
  let pki: TestPki;
  let strangers: TestPki;
  let caller: IssuedCertificate;
  let stranger: IssuedCertificate;
  /** Requires client certificates signed by pki. */
  let mutual: ProbeServer;
  /** TLS without client certificates. */
  let serverOnly: ProbeServer;

  beforeAll(async () => {
    auth = await createTestAuth();
    token = await auth.token(['service'], 'tls-caller');
    pki = await createTestPki('grpc-tls');
    strangers = await createTestPki('grpc-tls-stranger');
    const server = await pki.issue('probe');
    caller = await pki.issue('caller');
    stranger = await strangers.issue('stranger');
    mutual = await startProbeServer(auth, {
      GRPC_TLS_CERT_FILE: server.certFile,
      GRPC_TLS_KEY_FILE: server.keyFile,
      GRPC_TLS_CA_FILE: pki.caFile,
    });
    serverOnly = await startProbeServer(auth, {
      GRPC_TLS_CERT_FILE: server.certFile,
      GRPC_TLS_KEY_FILE: server.keyFile,
    });
  });

  afterAll(async () => {
    await mutual?.stop();
    await serverOnly?.stop();
    await pki?.remove();
    await strangers?.remove();
  });

  /** Credentials as a service builds them from its environment. */
  function fromConfig(env: Record<string, string>): ChannelCredentials {
    const config = loadConfig(
      { service: 'tls-caller', schema: baseServiceSchema },
      {
        DATABASE_URL: 'postgres://u:p@127.0.0.1:1/unused',
        AUTH_JWT_PUBLIC_KEYS: auth.publicKeys,
        ...env,
      },
    );
    return clientCredentials(grpcClientTransport(config));
  }

  async function probe(
    server: ProbeServer,
    credentials: ChannelCredentials,
  ): Promise<ProbeResponse> {
    const client = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: server.address,
      credentials,
      token: () => token,
      defaultTimeoutMs: 5_000,
    });
    try {
      return await client.api.probe({ message: 'over tls', behaviour: '', delayMs: 0 });
    } finally {
      client.close();
    }
  }

  /** The status code name a call ends with, or 'OK'. */
  async function outcomeOf(call: Promise<unknown>): Promise<string> {
    try {
      await call;
      return 'OK';
    } catch (error) {
      if (!isGrpcError(error)) throw error;
      return GrpcStatus[error.code];
    }
  }

  it('calls an mTLS server with the CA, certificate and key from GRPC_CLIENT_TLS_*', async () => {
    const credentials = fromConfig({
      GRPC_CLIENT_TLS_CA_FILE: pki.caFile,
      GRPC_CLIENT_TLS_CERT_FILE: caller.certFile,
      GRPC_CLIENT_TLS_KEY_FILE: caller.keyFile,
    });
    await expect(probe(mutual, credentials)).resolves.toEqual({
      message: 'over tls',
      callerSubject: 'tls-caller',
    });
  });

  it('an mTLS server refuses a plaintext client, a client without a certificate and one from another CA', async () => {
    const refused = {
      plaintext: plaintext(),
      'no certificate': fromConfig({ GRPC_CLIENT_TLS_CA_FILE: pki.caFile }),
      'another CA': fromConfig({
        GRPC_CLIENT_TLS_CA_FILE: pki.caFile,
        GRPC_CLIENT_TLS_CERT_FILE: stranger.certFile,
        GRPC_CLIENT_TLS_KEY_FILE: stranger.keyFile,
      }),
    };
    const outcomes: Record<string, string> = {};
    for (const [name, credentials] of Object.entries(refused)) {
      outcomes[name] = await outcomeOf(probe(mutual, credentials));
    }
    expect(outcomes).toEqual({
      plaintext: 'UNAVAILABLE',
      'no certificate': 'UNAVAILABLE',
      'another CA': 'UNAVAILABLE',
    });
  });

  it('a client refuses a server its CA did not sign', async () => {
    const credentials = fromConfig({ GRPC_CLIENT_TLS_CA_FILE: strangers.caFile });
    await expectGrpcError(probe(serverOnly, credentials), GrpcStatus.UNAVAILABLE);
  });

  it('a TLS server without mTLS takes a client without a certificate, but not a plaintext one', async () => {
    const credentials = fromConfig({ GRPC_CLIENT_TLS_CA_FILE: pki.caFile });
    await expect(probe(serverOnly, credentials)).resolves.toMatchObject({ message: 'over tls' });
    await expectGrpcError(probe(serverOnly, plaintext()), GrpcStatus.UNAVAILABLE);
  });

  it('a service serving TLS calls its peers over TLS without being told', async () => {
    // GRPC_TLS_* only: the client side follows (with the CA), where it used to fall back to plaintext.
    const credentials = fromConfig({
      GRPC_TLS_CERT_FILE: caller.certFile,
      GRPC_TLS_KEY_FILE: caller.keyFile,
      GRPC_CLIENT_TLS_CA_FILE: pki.caFile,
    });
    await expect(probe(serverOnly, credentials)).resolves.toMatchObject({ message: 'over tls' });
  });

  it('builds no client without credentials: plaintext is never a silent default', () => {
    const settings: Partial<ClientSettings> = { address: serverOnly.address };
    expect(() => createGrpcClient(PROBE_SERVICE, settings as ClientSettings)).toThrow(
      /credentials are required/,
    );
  });

  it('fails when credentials are built from a file that is missing or a key that does not match', () => {
    expect(() => clientCredentials({ tls: true, caFile: `${pki.dir}/absent.crt` })).toThrow(
      `cannot read the CA certificate ${pki.dir}/absent.crt`,
    );
    expect(() =>
      clientCredentials({
        tls: true,
        caFile: pki.caFile,
        certFile: caller.certFile,
        keyFile: stranger.keyFile,
      }),
    ).toThrow(/TLS client credentials from .*caller\.crt/);
  });
});
