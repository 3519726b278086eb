import type { ManifestSource, ServiceManifest } from '../src';

/** A valid manifest of a service called `name`; tests override what they are about. */
export function manifest(name: string, overrides: Partial<ServiceManifest> = {}): ServiceManifest {
  const index = name.length * 7 + (name.codePointAt(0) ?? 0);
  return {
    name,
    description: `The ${name} service.`,
    grpcPort: 50_000 + index,
    metricsPort: 9_000 + index,
    grpcServices: [`cinode.${name.replace(/-/g, '_')}.v1.${capitalised(name)}Service`],
    database: name.replace(/-/g, '_'),
    events: { owns: [], consumes: [] },
    provides: [],
    dependencies: [],
    chart: { valuesKey: name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) },
    ...overrides,
  };
}

/** As validateManifests reads them from services/<name>/service.json. */
export function sources(...manifests: unknown[]): ManifestSource[] {
  return manifests.map((value) => {
    const name =
      typeof value === 'object' &&
      value !== null &&
      'name' in value &&
      typeof value.name === 'string'
        ? value.name
        : 'unnamed';
    return { file: `services/${name}/service.json`, directory: name, text: JSON.stringify(value) };
  });
}

/** The node as it is today: the service center provides the JWKS; the identifier calls the mock. */
export function todaysNode(): ServiceManifest[] {
  return [
    manifest('service-center', {
      grpcPort: 50061,
      metricsPort: 9461,
      database: 'service_center',
      provides: ['jwks'],
      events: { owns: ['PARTICIPANT'], consumes: [] },
      localEnv: {
        SIGNING_KEY_ENCRYPTION_KEY: '${secret:signing-key-encryption-key:base64-32}',
        OPERATOR_BOOTSTRAP_KEY: '${secret:operator-bootstrap-key:api-key}',
      },
    }),
    manifest('identifier', {
      grpcPort: 50064,
      metricsPort: 9464,
      events: { owns: ['IDENTIFIER'], consumes: ['PARTICIPANT'] },
      dependencies: [
        { service: 'national-node-mock', env: 'NATIONAL_NODE_ADDRESS', startAfter: false },
      ],
      localEnv: { NODE_KEY: 'cinode-local-dev' },
    }),
    manifest('national-node-mock', { grpcPort: 50070, metricsPort: 9470 }),
  ];
}

function capitalised(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
