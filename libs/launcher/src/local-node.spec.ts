import { localNodeSettings } from './local-node';

describe(localNodeSettings.name, () => {
  it('uses the documented defaults', () => {
    expect(localNodeSettings('/repo', {}, { fresh: false })).toEqual({
      dataDir: '/repo/.data',
      externalDatabase: undefined,
      externalNats: undefined,
      postgresPort: 54329,
      natsPort: 4229,
      startTimeoutMs: 60_000,
      logLevel: 'info',
      nodeEnv: 'development',
      fresh: false,
      agentPools: 20,
    });
  });

  it('takes external servers, ports, timeout and log level from the environment; empty is unset', () => {
    const settings = localNodeSettings(
      '/repo',
      {
        DATABASE_URL: 'postgres://admin@db/postgres',
        NATS_URL: '',
        CINODE_POSTGRES_PORT: '55432',
        CINODE_NATS_PORT: '4333',
        CINODE_START_TIMEOUT_MS: '5000',
        LOG_LEVEL: 'debug',
        CINODE_AGENT_POOLS: '0',
      },
      { fresh: true },
    );
    expect(settings).toMatchObject({
      externalDatabase: 'postgres://admin@db/postgres',
      externalNats: undefined,
      postgresPort: 55432,
      natsPort: 4333,
      startTimeoutMs: 5000,
      logLevel: 'debug',
      fresh: true,
      agentPools: 0,
    });
  });

  it('rejects every malformed number at once', () => {
    expect(() =>
      localNodeSettings(
        '/repo',
        { CINODE_NATS_PORT: 'x', CINODE_START_TIMEOUT_MS: '-1', CINODE_AGENT_POOLS: '1.5' },
        { fresh: false },
      ),
    ).toThrow(
      'CINODE_NATS_PORT must be an integer from 1 to 65535, not "x"; CINODE_START_TIMEOUT_MS must be an integer from 1 to 3600000, not "-1"; CINODE_AGENT_POOLS must be an integer from 0 to 10000, not "1.5"',
    );
  });
});
