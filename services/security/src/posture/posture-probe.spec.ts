import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import {
  probeEndpoint,
  type PostureCheckId,
  type PostureProbeOptions,
  type PostureResult,
} from './posture-probe';

// Real servers on loopback with certificates made by the openssl CLI at test time.

const DAY_MS = 24 * 60 * 60 * 1000;
const LIST_SERVICES = Buffer.from([0x3a, 0x00]);

interface KeyPair {
  key: Buffer;
  cert: Buffer;
}

interface CertificateSpec {
  notBefore?: Date;
  notAfter: Date;
  selfSigned?: boolean;
  subjectAltName?: string;
}

/** A throwaway CA in a temporary directory, issuing leaf certificates with exact dates. */
class TestCa {
  readonly pem: Buffer;
  private issued = 0;

  constructor(private readonly dir: string) {
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(
      path.join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = test_ca',
        '[test_ca]',
        `database = ${path.join(dir, 'index.txt')}`,
        `new_certs_dir = ${dir}`,
        `serial = ${path.join(dir, 'serial')}`,
        'default_md = sha256',
        'policy = any_name',
        'unique_subject = no',
        '[any_name]',
        'commonName = supplied',
        '[leaf]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        'extendedKeyUsage = serverAuth',
        'subjectAltName = $ENV::POSTURE_SAN',
        '',
      ].join('\n'),
    );
    this.openssl([
      'req',
      '-x509',
      ...this.newKey('ca.key'),
      '-out',
      'ca.pem',
      '-days',
      '3650',
      '-subj',
      '/CN=cinode posture test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    this.pem = readFileSync(path.join(dir, 'ca.pem'));
  }

  issue(spec: CertificateSpec): KeyPair {
    const name = `leaf-${++this.issued}`;
    this.openssl([
      'req',
      '-new',
      ...this.newKey(`${name}.key`),
      '-subj',
      '/CN=localhost',
      '-out',
      `${name}.csr`,
    ]);
    const signer =
      spec.selfSigned === true
        ? ['-selfsign', '-keyfile', `${name}.key`]
        : ['-cert', 'ca.pem', '-keyfile', 'ca.key'];
    this.openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-rand_serial',
        '-config',
        'ca.cnf',
        ...signer,
        '-in',
        `${name}.csr`,
        '-out',
        `${name}.pem`,
        '-extensions',
        'leaf',
        '-startdate',
        asn1Time(spec.notBefore ?? new Date(Date.now() - DAY_MS)),
        '-enddate',
        asn1Time(spec.notAfter),
      ],
      { POSTURE_SAN: spec.subjectAltName ?? 'IP:127.0.0.1,DNS:localhost' },
    );
    return {
      key: readFileSync(path.join(this.dir, `${name}.key`)),
      cert: readFileSync(path.join(this.dir, `${name}.pem`)),
    };
  }

  private newKey(file: string): string[] {
    return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file];
  }

  private openssl(args: string[], env: Record<string, string> = {}): void {
    execFileSync('openssl', args, {
      cwd: this.dir,
      stdio: 'pipe',
      env: { ...process.env, ...env },
    });
  }
}

function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

const identity = (value: Buffer): Buffer => value;

function bidiMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

const ECHO_SERVICE: grpc.ServiceDefinition = {
  Echo: {
    ...bidiMethod('/cinode.test.v1.EchoService/Echo'),
    requestStream: false,
    responseStream: false,
  },
};

function lengthDelimited(field: number, bytes: Buffer): Buffer {
  if (bytes.length > 127) throw new Error('the test encoder writes one-byte lengths only');
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

/** ServerReflectionResponse { list_services_response { service { name } ... } } */
function listServicesResponse(names: string[]): Buffer {
  const services = names.map((name) => lengthDelimited(1, lengthDelimited(1, Buffer.from(name))));
  return lengthDelimited(6, Buffer.concat(services));
}

/** A reflection service answering exactly the request the probe must send, and nothing else. */
function addReflection(server: grpc.Server, api: 'v1' | 'v1alpha'): void {
  const path = `/grpc.reflection.${api}.ServerReflection/ServerReflectionInfo`;
  server.addService(
    { ServerReflectionInfo: bidiMethod(path) },
    {
      ServerReflectionInfo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (request: Buffer) => {
          if (request.equals(LIST_SERVICES)) {
            call.write(
              listServicesResponse([
                'cinode.test.v1.EchoService',
                `grpc.reflection.${api}.ServerReflection`,
              ]),
            );
          } else {
            // error_response { error_code = 3 }
            call.write(lengthDelimited(7, Buffer.from([0x08, 0x03])));
          }
        });
        call.on('end', () => call.end());
      },
    },
  );
}

describe(probeEndpoint.name, () => {
  let dir: string;
  let ca: TestCa;
  const stops: Array<() => Promise<void>> = [];

  const options = (overrides: Partial<PostureProbeOptions> = {}): PostureProbeOptions => ({
    timeoutMs: 2000,
    allowPrivateAddresses: true,
    expiryWarningDays: 30,
    trustedCa: ca.pem,
    ...overrides,
  });

  const checks = (result: PostureResult): PostureCheckId[] =>
    result.issues.map((issue) => issue.check);

  async function startGrpc(
    credentials: grpc.ServerCredentials,
    reflection?: 'v1' | 'v1alpha',
  ): Promise<number> {
    const server = new grpc.Server();
    server.addService(ECHO_SERVICE, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, call.request),
    });
    if (reflection !== undefined) addReflection(server, reflection);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    stops.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    return port;
  }

  const startGrpcTls = (pair: KeyPair, reflection?: 'v1' | 'v1alpha'): Promise<number> =>
    startGrpc(
      grpc.ServerCredentials.createSsl(
        null,
        [{ private_key: pair.key, cert_chain: pair.cert }],
        false,
      ),
      reflection,
    );

  async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as net.AddressInfo).port;
  }

  /** A TCP server that counts connections and drops each at once. */
  async function startCounter(host: string): Promise<{ port: number; connections: () => number }> {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    return { port: await listen(server, host), connections: () => connections };
  }

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'posture-probe-'));
    ca = new TestCa(dir);
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe('TLS', () => {
    it('finds nothing on a gRPC server with a valid certificate from a trusted CA and no reflection', async () => {
      const port = await startGrpcTls(ca.issue({ notAfter: new Date(Date.now() + 365 * DAY_MS) }));

      for (const host of ['127.0.0.1', 'localhost']) {
        const result = await probeEndpoint(`${host}:${port}`, options());
        expect(result).toMatchObject({
          target: `${host}:${port}`,
          reachable: true,
          tlsVersion: 'TLSv1.3',
          issues: [],
        });
        expect(result.error).toBeUndefined();
        expect(result.certificate).toMatchObject({
          subject: 'CN=localhost',
          issuer: 'CN=cinode posture test CA',
          selfSigned: false,
        });
        expect(result.certificate?.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      }
    });

    it('reports a certificate whose CA is not trusted', async () => {
      const port = await startGrpcTls(ca.issue({ notAfter: new Date(Date.now() + 365 * DAY_MS) }));

      const result = await probeEndpoint(`127.0.0.1:${port}`, options({ trustedCa: undefined }));

      expect(checks(result)).toEqual(['CERT_UNTRUSTED']);
      expect(result.issues[0]?.severity).toBe('high');
    });

    it('reports an expired certificate as expired only when its CA is trusted', async () => {
      const pair = ca.issue({
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2021-01-01T00:00:00Z'),
      });
      const port = await startGrpcTls(pair);

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result.issues).toEqual([
        {
          check: 'CERT_EXPIRED',
          severity: 'critical',
          message: expect.stringContaining('2021-01-01T00:00:00.000Z'),
        },
      ]);
      expect(result.certificate?.validTo).toEqual(new Date('2021-01-01T00:00:00Z'));
    });

    it('reports an expired self-signed certificate as expired and untrusted', async () => {
      const port = await startGrpcTls(
        ca.issue({
          selfSigned: true,
          notBefore: new Date('2020-01-01T00:00:00Z'),
          notAfter: new Date('2021-01-01T00:00:00Z'),
        }),
      );

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(checks(result)).toEqual(['CERT_EXPIRED', 'CERT_UNTRUSTED']);
      expect(result.certificate?.selfSigned).toBe(true);
    });

    it('reports a self-signed certificate as untrusted', async () => {
      const port = await startGrpcTls(
        ca.issue({ selfSigned: true, notAfter: new Date(Date.now() + 365 * DAY_MS) }),
      );

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result.issues).toEqual([
        {
          check: 'CERT_UNTRUSTED',
          severity: 'high',
          message: expect.stringContaining('self-signed'),
        },
      ]);
      expect(result.certificate).toMatchObject({
        subject: 'CN=localhost',
        issuer: 'CN=localhost',
        selfSigned: true,
      });
    });

    it('warns of a certificate expiring within the warning period, and not before it', async () => {
      const port = await startGrpcTls(ca.issue({ notAfter: new Date(Date.now() + 5 * DAY_MS) }));

      const warned = await probeEndpoint(`127.0.0.1:${port}`, options({ expiryWarningDays: 30 }));
      const quiet = await probeEndpoint(`127.0.0.1:${port}`, options({ expiryWarningDays: 3 }));

      expect(warned.issues).toEqual([
        {
          check: 'CERT_EXPIRING_SOON',
          severity: 'medium',
          message: expect.stringMatching(/in [45] day\(s\)/),
        },
      ]);
      expect(quiet.issues).toEqual([]);
    });

    it('judges dates by the given clock', async () => {
      const port = await startGrpcTls(ca.issue({ notAfter: new Date(Date.now() + 365 * DAY_MS) }));

      const result = await probeEndpoint(
        `127.0.0.1:${port}`,
        options({ now: () => new Date(Date.now() + 400 * DAY_MS) }),
      );

      expect(checks(result)).toEqual(['CERT_EXPIRED']);
    });

    it('reports a certificate that is not valid yet', async () => {
      const port = await startGrpcTls(
        ca.issue({
          notBefore: new Date(Date.now() + 10 * DAY_MS),
          notAfter: new Date(Date.now() + 400 * DAY_MS),
        }),
      );

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result.issues).toEqual([
        {
          check: 'CERT_NOT_YET_VALID',
          severity: 'high',
          message: expect.stringContaining('not valid before'),
        },
      ]);
    });

    it('reports a certificate for another name when the target is a hostname, not when it is an IP', async () => {
      const port = await startGrpcTls(
        ca.issue({
          notAfter: new Date(Date.now() + 365 * DAY_MS),
          subjectAltName: 'DNS:other.example',
        }),
      );

      const byName = await probeEndpoint(`localhost:${port}`, options());
      const byAddress = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(byName.issues).toEqual([
        {
          check: 'CERT_HOSTNAME_MISMATCH',
          severity: 'high',
          message: expect.stringContaining('localhost'),
        },
      ]);
      expect(byAddress.issues).toEqual([]);
    });

    it('reports a server that negotiates TLSv1 only', async () => {
      // OpenSSL 3 refuses TLSv1 at its default security level; level 0 on the server lets it
      // speak TLSv1 (the probe lowers its own level to see such servers).
      const pair = ca.issue({ notAfter: new Date(Date.now() + 365 * DAY_MS) });
      const server = tls.createServer({
        ...pair,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      server.on('secureConnection', (socket) => socket.end());
      server.on('tlsClientError', () => undefined);
      const port = await listen(server);

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result.tlsVersion).toBe('TLSv1');
      expect(result.issues).toEqual([
        {
          check: 'TLS_VERSION_OUTDATED',
          severity: 'high',
          message: expect.stringContaining('TLSv1'),
        },
      ]);
    });
  });

  describe('plaintext and reflection', () => {
    it('reports a gRPC server without TLS', async () => {
      const port = await startGrpc(grpc.ServerCredentials.createInsecure());

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result).toMatchObject({
        reachable: true,
        issues: [{ severity: 'critical' }, { severity: 'high' }],
      });
      expect(checks(result)).toEqual(['PLAINTEXT_EXPOSED', 'TLS_NOT_OFFERED']);
      expect(result.tlsVersion).toBeUndefined();
      expect(result.certificate).toBeUndefined();
    });

    it('reports reflection listing the services on a gRPC server without TLS', async () => {
      const port = await startGrpc(grpc.ServerCredentials.createInsecure(), 'v1');

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(checks(result)).toEqual([
        'PLAINTEXT_EXPOSED',
        'TLS_NOT_OFFERED',
        'REFLECTION_EXPOSED',
      ]);
      expect(result.issues[2]).toEqual({
        check: 'REFLECTION_EXPOSED',
        severity: 'medium',
        message: expect.stringContaining('lists 2 service(s)'),
      });
      expect(result.issues[2]?.message).toContain('cinode.test.v1.EchoService');
    });

    it('falls back to v1alpha reflection, over TLS', async () => {
      const port = await startGrpcTls(
        ca.issue({ notAfter: new Date(Date.now() + 365 * DAY_MS) }),
        'v1alpha',
      );

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result.issues).toEqual([
        {
          check: 'REFLECTION_EXPOSED',
          severity: 'medium',
          message: expect.stringMatching(/grpc\.reflection\.v1alpha, over tls\) lists 2 service/),
        },
      ]);
    });
  });

  describe('reachability and bounds', () => {
    it('answers unreachable for a closed port', async () => {
      const server = net.createServer();
      const port = await listen(server);
      await new Promise<void>((resolve) => server.close(() => resolve()));

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      expect(result).toMatchObject({
        reachable: false,
        issues: [],
        error: expect.stringContaining('ECONNREFUSED'),
      });
    });

    it('answers unreachable for an address that does not parse', async () => {
      const result = await probeEndpoint('https://example.com/', options());

      expect(result).toMatchObject({
        reachable: false,
        issues: [],
        error: expect.stringContaining('without a scheme'),
      });
    });

    it('gives up on a server that accepts and never speaks within the step timeouts', async () => {
      const held: net.Socket[] = [];
      const server = net.createServer((socket) => held.push(socket));
      stops.unshift(async () => held.forEach((socket) => socket.destroy()));
      const port = await listen(server);

      const result = await probeEndpoint(`127.0.0.1:${port}`, options({ timeoutMs: 300 }));

      expect(result).toMatchObject({
        reachable: true,
        issues: [],
        error: expect.stringContaining('no TLS handshake'),
      });
      expect(result.durationMs).toBeLessThan(300 * 4 + 1000);
    });

    it('sorts issues by severity, then check id', async () => {
      const port = await startGrpc(grpc.ServerCredentials.createInsecure(), 'v1');

      const result = await probeEndpoint(`127.0.0.1:${port}`, options());

      const order = { critical: 0, high: 1, medium: 2, low: 3 };
      const keys = result.issues.map((issue) => `${order[issue.severity]}${issue.check}`);
      expect(keys).toEqual([...keys].sort());
      expect(keys.length).toBeGreaterThan(1);
    });
  });

  describe('private address policy', () => {
    it.each([
      ['127.0.0.1', '127.0.0.1', /127\.0\.0\.1 is a loopback address/],
      ['[::ffff:127.0.0.1]', '127.0.0.1', /loopback, as an IPv4-embedding IPv6 address/],
      ['localhost', '127.0.0.1', /localhost resolves to it/],
      ['[::1]', '::1', /::1 is a loopback address/],
    ])('refuses %s without connecting', async (host, listenOn, reason) => {
      const counter = await startCounter(listenOn);

      const result = await probeEndpoint(
        `${host}:${counter.port}`,
        options({ allowPrivateAddresses: false }),
      );

      expect(result).toMatchObject({
        reachable: false,
        issues: [],
        error: expect.stringMatching(/^refused by policy/),
      });
      expect(result.error).toMatch(reason);
      expect(counter.connections()).toBe(0);
    });

    it('refuses a private network address', async () => {
      const result = await probeEndpoint(
        '10.20.30.40:443',
        options({ allowPrivateAddresses: false, timeoutMs: 60000 }),
      );

      expect(result).toMatchObject({
        reachable: false,
        error: expect.stringContaining('private (RFC 1918)'),
      });
      expect(result.durationMs).toBeLessThan(1000);
    });

    it('connects to the same addresses when private addresses are allowed', async () => {
      const counter = await startCounter('127.0.0.1');

      const result = await probeEndpoint(`[::ffff:127.0.0.1]:${counter.port}`, options());

      expect(result.reachable).toBe(true);
      expect(counter.connections()).toBeGreaterThan(0);
    });
  });
});
