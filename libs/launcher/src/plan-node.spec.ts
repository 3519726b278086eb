import { RUNNER_ENV, type ServiceManifest } from '@cinode/manifest';
import { planNode, type PlanNodeInput } from './plan-node';

function manifest(name: string, overrides: Partial<ServiceManifest>): ServiceManifest {
  return {
    name,
    description: name,
    grpcPort: 0,
    metricsPort: 0,
    grpcServices: [`cinode.${name.replace(/-/g, '_')}.v1.ThingService`],
    database: name.replace(/-/g, '_'),
    events: { owns: [], consumes: [] },
    provides: [],
    dependencies: [],
    chart: { valuesKey: name },
    ...overrides,
  };
}

/** The node as its manifests describe it today. */
const NODE: ServiceManifest[] = [
  manifest('national-node-mock', { grpcPort: 50070, metricsPort: 9470 }),
  manifest('identifier', {
    grpcPort: 50064,
    metricsPort: 9464,
    dependencies: [
      { service: 'national-node-mock', env: 'NATIONAL_NODE_ADDRESS', startAfter: false },
    ],
    localEnv: { NODE_KEY: 'cinode-local-dev' },
  }),
  manifest('service-center', {
    grpcPort: 50061,
    metricsPort: 9461,
    provides: ['jwks'],
    localEnv: {
      SIGNING_KEY_ENCRYPTION_KEY: '${secret:signing-key-encryption-key:base64-32}',
      OPERATOR_BOOTSTRAP_KEY: '${secret:operator-bootstrap-key:api-key}',
    },
  }),
];

function input(overrides: Partial<PlanNodeInput> = {}): PlanNodeInput {
  return {
    manifests: NODE,
    host: '127.0.0.1',
    databaseUrl: (m) => `postgres://admin@db/${m.database}`,
    natsUrl: 'nats://127.0.0.1:4229',
    keys: { publicKeys: '{"keys":[]}', serviceSigningKey: '{"kid":"s"}' },
    secret: (name, format) => `<${name}:${format}>`,
    nodeEnv: 'development',
    logLevel: 'info',
    ...overrides,
  };
}

describe(planNode.name, () => {
  it('starts the service center first, then the others together', () => {
    const plan = planNode(input());
    expect(plan.waves.map((wave) => wave.map((s) => s.name))).toEqual([
      ['service-center'],
      ['identifier', 'national-node-mock'],
    ]);
    expect(plan.services.map((s) => s.name)).toEqual([
      'identifier',
      'national-node-mock',
      'service-center',
    ]);
  });

  it("gives each service its infrastructure, keys, ports and dependencies' addresses", () => {
    const identifier = planNode(input()).services[0];
    expect(identifier.env).toEqual({
      NODE_ENV: 'development',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '50064',
      METRICS_PORT: '9464',
      DATABASE_URL: 'postgres://admin@db/identifier',
      NATS_URL: 'nats://127.0.0.1:4229',
      LOG_LEVEL: 'info',
      GRPC_REFLECTION: 'true',
      AUTH_JWT_PUBLIC_KEYS: '{"keys":[]}',
      AUTH_SERVICE_SIGNING_KEY: '{"kid":"s"}',
      OTEL_SERVICE_NAME: 'identifier',
      NATIONAL_NODE_ADDRESS: '127.0.0.1:50070',
      AUTH_JWKS_ADDRESS: '127.0.0.1:50061',
      NODE_KEY: 'cinode-local-dev',
    });
    expect(identifier.grpcAddress).toBe('127.0.0.1:50064');
  });

  it('sets exactly the runner variables when a service has no dependencies or localEnv', () => {
    const [center] = planNode(
      input({ manifests: [manifest('solo', { provides: ['jwks'] })] }),
    ).services;
    expect(Object.keys(center.env).sort()).toEqual([...RUNNER_ENV].sort());
  });

  it('resolves secrets in localEnv and gives the JWKS provider no address of its own', () => {
    const center = planNode(input()).services[2];
    expect(center.env.OPERATOR_BOOTSTRAP_KEY).toBe('<operator-bootstrap-key:api-key>');
    expect(center.env.SIGNING_KEY_ENCRYPTION_KEY).toBe('<signing-key-encryption-key:base64-32>');
    expect(center.env.AUTH_JWKS_ADDRESS).toBeUndefined();
  });

  it('runs the built entry point, with `migrate` for the migrations', () => {
    const mock = planNode(input()).services[1];
    expect(mock.entry).toBe('dist/services/national-node-mock/src/main.js');
    expect(mock.command).toEqual(['dist/services/national-node-mock/src/main.js']);
    expect(mock.migrateCommand).toEqual([
      'dist/services/national-node-mock/src/main.js',
      'migrate',
    ]);
  });

  it('uses the ports it is given, in the addresses of dependencies too', () => {
    const free: Record<string, number> = {
      identifier: 40001,
      'national-node-mock': 40002,
      'service-center': 40003,
    };
    const plan = planNode(
      input({ ports: (m) => ({ grpcPort: free[m.name], metricsPort: free[m.name] + 100 }) }),
    );
    const identifier = plan.services[0];
    expect(identifier.env.GRPC_PORT).toBe('40001');
    expect(identifier.env.METRICS_PORT).toBe('40101');
    expect(identifier.metricsPort).toBe(40101);
    expect(identifier.env.NATIONAL_NODE_ADDRESS).toBe('127.0.0.1:40002');
    expect(identifier.env.AUTH_JWKS_ADDRESS).toBe('127.0.0.1:40003');
  });

  it('passes inherited variables through beneath its own', () => {
    const [identifier] = planNode(
      input({ inheritedEnv: { FAULT_LATENCY_MS: '200', GRPC_PORT: '1', UNSET: undefined } }),
    ).services;
    expect(identifier.env.FAULT_LATENCY_MS).toBe('200');
    expect(identifier.env.GRPC_PORT).toBe('50064');
    expect('UNSET' in identifier.env).toBe(false);
  });

  it('with tls, gives each service its certificate as server and client and the CA for both ends', () => {
    const plan = planNode(
      input({
        tls: (m) => ({
          caFile: '/pki/ca.crt',
          certFile: `/pki/${m.name}.crt`,
          keyFile: `/pki/${m.name}.key`,
        }),
      }),
    );
    for (const service of plan.services) {
      expect(service.env).toMatchObject({
        GRPC_TLS_CERT_FILE: `/pki/${service.name}.crt`,
        GRPC_TLS_KEY_FILE: `/pki/${service.name}.key`,
        GRPC_TLS_CA_FILE: '/pki/ca.crt',
        GRPC_CLIENT_TLS: 'true',
        GRPC_CLIENT_TLS_CA_FILE: '/pki/ca.crt',
        GRPC_CLIENT_TLS_CERT_FILE: `/pki/${service.name}.crt`,
        GRPC_CLIENT_TLS_KEY_FILE: `/pki/${service.name}.key`,
      });
    }
    // The mock plays the national node inside the node: the identifier calls it as its own peers.
    expect(
      Object.keys(plan.services[0].env).filter((k) => k.startsWith('NATIONAL_NODE_TLS')),
    ).toEqual([]);
    expect(Object.keys(planNode(input()).services[0].env).filter((k) => k.includes('TLS'))).toEqual(
      [],
    );
  });
});
