import { z } from 'zod';
import { ConfigError, baseServiceSchema, envInt, loadConfig, redactConfig } from './config';

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
