import { ConfigError } from '@cinode/config';
import { loadIdentifierConfig } from './config';

const required = {
  DATABASE_URL: 'postgres://cinode@localhost:5432/identifier',
  AUTH_JWT_PUBLIC_KEYS: '{"keys":[]}',
  NATS_URL: 'nats://localhost:4222',
  NATIONAL_NODE_ADDRESS: 'localhost:50070',
};

function problemsOf(env: Record<string, string>): { key: string; problem: string }[] {
  try {
    loadIdentifierConfig({ ...required, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('identifier configuration', () => {
  it('loads with defaults, the platform’s event retry keys included', () => {
    const config = loadIdentifierConfig(required);
    expect(config).toMatchObject({
      GRPC_PORT: 50064,
      EVENT_RETRY_INITIAL_MS: 1_000,
      FILING_RETRY_INITIAL_MS: 1_000,
      FILING_RETRY_MAX_MS: 60_000,
    });
    expect(config.NODE_CODE).toBeUndefined();
  });

  it('reports every rule spanning keys at once', () => {
    expect(
      problemsOf({
        NODE_CODE: 'R0001',
        REGISTRATION_RETRY_INITIAL_MS: '500',
        REGISTRATION_RETRY_MAX_MS: '100',
        FILING_RETRY_INITIAL_MS: '500',
        FILING_RETRY_MAX_MS: '100',
        EVENT_RETRY_INITIAL_MS: '500',
        EVENT_RETRY_MAX_MS: '100',
      }).map((p) => p.key),
    ).toEqual([
      'EVENT_RETRY_MAX_MS',
      'NODE_CODE',
      'REGISTRATION_RETRY_MAX_MS',
      'FILING_RETRY_MAX_MS',
    ]);
  });

  it('wants an identifier prefix that ends with the node code', () => {
    expect(problemsOf({ NODE_CODE: 'R0001', IDENTIFIER_PREFIX: 'CN.R0002' })).toEqual([
      { key: 'IDENTIFIER_PREFIX', problem: 'must end with "." and NODE_CODE' },
    ]);
    expect(problemsOf({ NODE_CODE: 'R0001', IDENTIFIER_PREFIX: 'CN.R0001' })).toEqual([]);
  });

  it('requires the national node and NATS', () => {
    expect(
      problemsOf({ NATS_URL: '', NATIONAL_NODE_ADDRESS: '' })
        .map((p) => p.key)
        .sort(),
    ).toEqual(['NATIONAL_NODE_ADDRESS', 'NATS_URL']);
  });

  it('refuses a national node client certificate without its key, naming both variables', () => {
    expect(problemsOf({ NATIONAL_NODE_TLS_CERT_FILE: __filename })).toEqual([
      {
        key: 'NATIONAL_NODE_TLS_KEY_FILE',
        problem: 'set NATIONAL_NODE_TLS_CERT_FILE and NATIONAL_NODE_TLS_KEY_FILE together',
      },
    ]);
    expect(problemsOf({ NATIONAL_NODE_TLS_CA_FILE: '/nonexistent/national-ca.crt' })).toEqual([
      {
        key: 'NATIONAL_NODE_TLS_CA_FILE',
        problem: 'cannot read /nonexistent/national-ca.crt (ENOENT)',
      },
    ]);
  });
});
