import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  baseServiceSchema,
  clientTlsProblems,
  clientTlsShape,
  envInt,
  eventsConfigShape,
  grpcClientTransport,
  loadConfig,
  peerClientTransport,
  redactConfig,
  type ConfigProblem,
} from './config';

const definition = {
  service: 'demo',
  schema: baseServiceSchema.extend({ DEMO_LIMIT: envInt(5, 1, 10), DEMO_SECRET: z.string() }),
  secrets: ['DEMO_SECRET'] as const,
};
const validEnv = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/demo',
  AUTH_JWT_PUBLIC_KEYS: '{"keys":[]}',
  DEMO_SECRET: 's3cret',
};

describe(loadConfig.name, () => {
  it('applies defaults and coerces numbers and booleans', () => {
    const config = loadConfig(definition, {
      ...validEnv,
      GRPC_PORT: '50099',
      GRPC_REFLECTION: 'false',
    });
    expect(config.GRPC_PORT).toBe(50099);
    expect(config.GRPC_REFLECTION).toBe(false);
    expect(config.DEMO_LIMIT).toBe(5);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('lists every bad key at once', () => {
    let error: unknown;
    try {
      loadConfig(definition, { GRPC_PORT: 'seventy', DEMO_LIMIT: '99', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).problems.map((p) => p.key).sort();
    expect(keys).toEqual(
      [
        'AUTH_JWT_PUBLIC_KEYS',
        'DATABASE_URL',
        'DEMO_LIMIT',
        'DEMO_SECRET',
        'GRPC_PORT',
        'LOG_LEVEL',
      ].sort(),
    );
  });

  it('validates the outbox relay settings and keeps a connection free of its rounds', () => {
    const events = { ...definition, schema: definition.schema.extend(eventsConfigShape) };
    const env = { ...validEnv, NATS_URL: 'nats://127.0.0.1:4222' };
    const config = loadConfig(events, env);
    expect([
      config.OUTBOX_BATCH_SIZE,
      config.OUTBOX_CONCURRENCY,
      config.OUTBOX_RETENTION_HOURS,
    ]).toEqual([500, 4, 168]);
    const problemsOf = (more: Record<string, string>) => {
      try {
        loadConfig(events, { ...env, ...more });
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => p.key);
      }
    };
    expect(
      problemsOf({ OUTBOX_BATCH_SIZE: '0', OUTBOX_CONCURRENCY: '33', OUTBOX_RETENTION_HOURS: '0' }),
    ).toEqual(['OUTBOX_BATCH_SIZE', 'OUTBOX_CONCURRENCY', 'OUTBOX_RETENTION_HOURS']);
    expect(problemsOf({ OUTBOX_CONCURRENCY: '4', DB_POOL_MAX: '4' })).toEqual([
      'OUTBOX_CONCURRENCY',
    ]);
    expect(problemsOf({ OUTBOX_CONCURRENCY: '3', DB_POOL_MAX: '4' })).toEqual([]);
  });

  it('never includes secret values in the error message', () => {
    try {
      loadConfig(definition, { ...validEnv, DATABASE_URL: 'mysql://u:hunter2@h/db' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as Error).message).toContain('DATABASE_URL');
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe(redactConfig.name, () => {
  it('hides declared secrets and the database URL', () => {
    const config = loadConfig(definition, validEnv);
    const shown = redactConfig(config, definition.secrets);
    expect(shown.DATABASE_URL).toBe('[redacted]');
    expect(shown.DEMO_SECRET).toBe('[redacted]');
    expect(shown.GRPC_PORT).toBe(50051);
  });
});

describe('TLS settings', () => {
  let dir: string;
  /** Existing files: the config checks that each one can be read. */
  let files: Record<'ca' | 'cert' | 'key' | 'peerCa' | 'peerCert' | 'peerKey', string>;
  const withPeer = {
    service: 'demo',
    schema: baseServiceSchema.extend({ ...clientTlsShape('PEER') }),
    rules: (config: Record<string, unknown>) => clientTlsProblems(config, 'PEER'),
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-tls-'));
    const names = ['ca', 'cert', 'key', 'peerCa', 'peerCert', 'peerKey'] as const;
    files = Object.fromEntries(
      names.map((name) => {
        const path = join(dir, `${name}.pem`);
        writeFileSync(path, 'not checked here: the credentials read it\n');
        return [name, path];
      }),
    ) as typeof files;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function problemsOf(env: Record<string, string>): ConfigProblem[] {
    try {
      loadConfig(withPeer, { ...validEnv, ...env });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  const server = () => ({
    GRPC_TLS_CERT_FILE: files.cert,
    GRPC_TLS_KEY_FILE: files.key,
  });

  it('calls peers in plaintext only when nothing about TLS is configured', () => {
    expect(grpcClientTransport(loadConfig(definition, validEnv))).toEqual({ tls: false });
  });

  it('calls peers over TLS by default when the service serves TLS', () => {
    const config = loadConfig(definition, { ...validEnv, ...server() });
    expect(grpcClientTransport(config)).toEqual({ tls: true });
  });

  it('takes the CA, certificate and key of calls to peers from GRPC_CLIENT_TLS_*', () => {
    const config = loadConfig(definition, {
      ...validEnv,
      GRPC_CLIENT_TLS_CA_FILE: files.ca,
      GRPC_CLIENT_TLS_CERT_FILE: files.cert,
      GRPC_CLIENT_TLS_KEY_FILE: files.key,
    });
    expect(grpcClientTransport(config)).toEqual({
      tls: true,
      caFile: files.ca,
      certFile: files.cert,
      keyFile: files.key,
    });
  });

  it('calls peers in plaintext next to a TLS server only when GRPC_CLIENT_TLS=false says so', () => {
    const config = loadConfig(definition, { ...validEnv, ...server(), GRPC_CLIENT_TLS: 'false' });
    expect(grpcClientTransport(config)).toEqual({ tls: false });
  });

  it('refuses a certificate without its key, naming both variables', () => {
    for (const [env, missing] of [
      [{ GRPC_TLS_CERT_FILE: files.cert }, 'GRPC_TLS_KEY_FILE'],
      [{ GRPC_TLS_KEY_FILE: files.key }, 'GRPC_TLS_CERT_FILE'],
      [{ GRPC_CLIENT_TLS_CERT_FILE: files.cert }, 'GRPC_CLIENT_TLS_KEY_FILE'],
      [{ PEER_TLS_KEY_FILE: files.key }, 'PEER_TLS_CERT_FILE'],
    ] as const) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0].key).toBe(missing);
      const prefix = missing.replace(/_(CERT|KEY)_FILE$/, '');
      expect(problems[0].problem).toContain(`${prefix}_CERT_FILE`);
      expect(problems[0].problem).toContain(`${prefix}_KEY_FILE`);
    }
  });

  it('refuses a client CA (mTLS) on a server without TLS', () => {
    expect(problemsOf({ GRPC_TLS_CA_FILE: files.ca })).toEqual([
      { key: 'GRPC_TLS_CA_FILE', problem: expect.stringContaining('GRPC_TLS_CERT_FILE') },
    ]);
  });

  it('refuses TLS files next to an explicit plaintext setting', () => {
    expect(
      problemsOf({ GRPC_CLIENT_TLS: 'false', GRPC_CLIENT_TLS_CA_FILE: files.ca }).map((p) => p.key),
    ).toEqual(['GRPC_CLIENT_TLS']);
  });

  it('names every missing or unreadable file and its variable', () => {
    const problems = problemsOf({
      ...server(),
      GRPC_TLS_CA_FILE: join(dir, 'absent-ca.pem'),
      GRPC_CLIENT_TLS_CA_FILE: dir,
      PEER_TLS_CA_FILE: join(dir, 'absent-peer-ca.pem'),
    });
    expect(problems).toEqual([
      { key: 'GRPC_TLS_CA_FILE', problem: `cannot read ${join(dir, 'absent-ca.pem')} (ENOENT)` },
      { key: 'GRPC_CLIENT_TLS_CA_FILE', problem: `${dir} is not a file` },
      {
        key: 'PEER_TLS_CA_FILE',
        problem: `cannot read ${join(dir, 'absent-peer-ca.pem')} (ENOENT)`,
      },
    ]);
  });

  it("calls a peer with a group of its own with that group's settings only", () => {
    const config = loadConfig(withPeer, {
      ...validEnv,
      ...server(),
      GRPC_CLIENT_TLS_CA_FILE: files.ca,
      GRPC_CLIENT_TLS_CERT_FILE: files.cert,
      GRPC_CLIENT_TLS_KEY_FILE: files.key,
      PEER_TLS_CA_FILE: files.peerCa,
      PEER_TLS_CERT_FILE: files.peerCert,
      PEER_TLS_KEY_FILE: files.peerKey,
    });
    expect(peerClientTransport(config, 'PEER')).toEqual({
      tls: true,
      caFile: files.peerCa,
      certFile: files.peerCert,
      keyFile: files.peerKey,
    });
    // The system's CAs and no client certificate: never the node's own certificate to an outsider.
    const systemCas = loadConfig(withPeer, {
      ...validEnv,
      GRPC_CLIENT_TLS_CERT_FILE: files.cert,
      GRPC_CLIENT_TLS_KEY_FILE: files.key,
      PEER_TLS: 'true',
    });
    expect(peerClientTransport(systemCas, 'PEER')).toEqual({ tls: true });
    const plaintextPeer = loadConfig(withPeer, { ...validEnv, ...server(), PEER_TLS: 'false' });
    expect(peerClientTransport(plaintextPeer, 'PEER')).toEqual({ tls: false });
  });

  it("calls a peer whose group is unset as the node's own services", () => {
    const config = loadConfig(withPeer, {
      ...validEnv,
      ...server(),
      GRPC_CLIENT_TLS_CA_FILE: files.ca,
    });
    expect(peerClientTransport(config, 'PEER')).toEqual({ tls: true, caFile: files.ca });
    expect(peerClientTransport(loadConfig(withPeer, validEnv), 'PEER')).toEqual({ tls: false });
  });
});
