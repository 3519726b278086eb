import { randomBytes } from 'node:crypto';
import { exampleReportPayload } from '@cinode/contracts';
import { ConfigError, redactConfig } from '@cinode/config';
import { loadReportingConfig, reportingConfigDefinition } from './config';

const required = {
  DATABASE_URL: 'postgres://cinode@localhost:5432/reporting',
  AUTH_JWT_PUBLIC_KEYS: '{"keys":[]}',
  NATIONAL_NODE_ADDRESS: 'localhost:50070',
  RESOURCE_AGGREGATION_ADDRESS: 'localhost:50071',
  SECURITY_ADDRESS: 'localhost:50075',
  REPORT_BASE_INFO_JSON: JSON.stringify(exampleReportPayload().base),
};

function problemsOf(env: Record<string, string | undefined>): { key: string; problem: string }[] {
  try {
    loadReportingConfig({ ...required, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('reporting configuration', () => {
  it('loads the base information and the default window, 07:00-08:00 CST', () => {
    const config = loadReportingConfig(required);
    expect(config.REPORT_BASE_INFO_JSON).toEqual(exampleReportPayload().base);
    expect(config.REPORT_WINDOW).toEqual({ name: 'morning', startMinute: 420, endMinute: 480 });
    expect(config.DELIVERY_RETRY_MAX_MS).toBe(300_000);
  });

  it('never logs the base information: it names persons, their mobiles and e-mail addresses', () => {
    const config = loadReportingConfig(required);
    const logged = JSON.stringify(redactConfig(config, reportingConfigDefinition.secrets ?? []));
    const base = exampleReportPayload().base;
    expect(logged).toContain('"REPORT_BASE_INFO_JSON":"[redacted]"');
    for (const value of [
      base.responsible_person.name,
      base.responsible_person.mobile,
      base.contact_person.email,
    ])
      expect(logged).not.toContain(value);
  });

  it('requires the base information, and names each bad field of it', () => {
    expect(problemsOf({ REPORT_BASE_INFO_JSON: undefined })).toEqual([
      { key: 'REPORT_BASE_INFO_JSON', problem: 'is required' },
    ]);
    expect(problemsOf({ REPORT_BASE_INFO_JSON: '{' })).toEqual([
      { key: 'REPORT_BASE_INFO_JSON', problem: 'must be JSON' },
    ]);
    const base = exampleReportPayload().base as unknown as Record<string, Record<string, unknown>>;
    base['contact_person']['email'] = 'nobody';
    delete base['city'];
    expect(problemsOf({ REPORT_BASE_INFO_JSON: JSON.stringify(base) }).map((p) => p.key)).toEqual(
      expect.arrayContaining([
        'REPORT_BASE_INFO_JSON.contact_person.email',
        'REPORT_BASE_INFO_JSON.city',
      ]),
    );
  });

  it('refuses a malformed window and inverted retry bounds', () => {
    expect(
      problemsOf({
        REPORT_WINDOW: '08:00-07:00',
      }),
    ).toEqual([{ key: 'REPORT_WINDOW', problem: 'must end after it starts, on the same day' }]);
    expect(
      problemsOf({ DELIVERY_RETRY_INITIAL_MS: '5000', DELIVERY_RETRY_MAX_MS: '1000' }),
    ).toEqual([
      { key: 'DELIVERY_RETRY_MAX_MS', problem: 'must not be below DELIVERY_RETRY_INITIAL_MS' },
    ]);
  });

  it('requires the key-encryption key in production, 32 bytes of base64', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(
      expect.arrayContaining([
        { key: 'REPORT_KEY_ENCRYPTION_KEY', problem: 'is required in production' },
      ]),
    );
    const key = randomBytes(32).toString('base64');
    expect(problemsOf({ REPORT_KEY_ENCRYPTION_KEY: key })).toEqual([]);
    // As a secret file holds it, newline and all.
    expect(problemsOf({ REPORT_KEY_ENCRYPTION_KEY: `${key}\n` })).toEqual([]);
    for (const bad of [
      randomBytes(16).toString('base64'),
      // 32 bytes after Buffer.from skips the stray characters, but not what anyone meant.
      `${key.slice(0, 20)}!!${key.slice(20)}`,
      randomBytes(32).toString('base64url'),
      Buffer.alloc(32).toString('base64'),
    ])
      expect(problemsOf({ REPORT_KEY_ENCRYPTION_KEY: bad })).toEqual([
        {
          key: 'REPORT_KEY_ENCRYPTION_KEY',
          problem:
            'must be the base64 encoding of exactly 32 random bytes (e.g. `openssl rand -base64 32`)',
        },
      ]);
  });
});
