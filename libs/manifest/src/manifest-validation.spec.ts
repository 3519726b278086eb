import { manifest, sources, todaysNode } from '../test/manifest-fixtures';
import { ManifestError, validateManifests, type ManifestSource } from './manifest-validation';

/** The problems validateManifests reports, or [] when it accepts. */
function problemsOf(input: readonly ManifestSource[]): readonly string[] {
  try {
    validateManifests(input);
    return [];
  } catch (error: unknown) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
}

describe(validateManifests.name, () => {
  it('accepts the node as it is today and returns it sorted by name', () => {
    const accepted = validateManifests(sources(...todaysNode()));
    expect(accepted.map((m) => m.name)).toEqual([
      'identifier',
      'national-node-mock',
      'service-center',
    ]);
  });

  it('accepts a $schema key and no localEnv', () => {
    const { localEnv: _none, ...withoutEnv } = manifest('solo');
    expect(problemsOf(sources({ $schema: '../../x.json', ...withoutEnv }))).toEqual([]);
  });

  it('rejects unknown keys, naming the file and the key', () => {
    const input = sources(
      { ...manifest('solo'), startOrder: 0 },
      {
        ...manifest('other'),
        dependencies: [{ service: 'solo', env: 'SOLO_ADDRESS', startAfter: true, optional: true }],
      },
    );
    expect(problemsOf(input)).toEqual([
      'services/solo/service.json: top level: unknown key "startOrder"',
      'services/other/service.json: dependencies[0]: unknown key "optional"',
    ]);
  });

  it('reports a missing key as required', () => {
    const { grpcPort: _missing, ...rest } = manifest('solo');
    expect(problemsOf(sources(rest))).toEqual([
      'services/solo/service.json: grpcPort: is required (number)',
    ]);
  });

  it('rejects a file that is not JSON', () => {
    const [problem] = problemsOf([
      { file: 'services/solo/service.json', directory: 'solo', text: '{"name": ' },
    ]);
    expect(problem).toMatch(/^services\/solo\/service\.json: not valid JSON/);
  });

  it('requires the name to equal the directory', () => {
    const input = sources(manifest('solo'));
    expect(problemsOf([{ ...input[0], directory: 'elsewhere' }])).toEqual([
      'services/solo/service.json: name "solo" must equal its directory name "elsewhere"',
    ]);
  });

  it.each([
    [
      'database',
      { database: 'Service-Center' },
      /^services\/solo\/service\.json: database: must be a lowercase Postgres identifier/,
    ],
    ['grpcPort', { grpcPort: 80 }, /grpcPort: must be at least 1024/],
    ['metricsPort', { metricsPort: 9464.5 }, /metricsPort: must be an integer/],
    [
      'events',
      { events: { owns: ['cinode.identifier'], consumes: [] } },
      /events\.owns\[0\]: must be an upper-case JetStream stream name/,
    ],
    ['grpcServices', { grpcServices: [] }, /grpcServices: must list at least one gRPC service/],
    ['provides', { provides: ['tokens'] }, /provides\[0\]: must be one of: jwks$/],
    [
      'localEnv key',
      { localEnv: { node_key: 'x' } },
      /localEnv\.node_key: invalid key: must be an upper-case environment variable name/,
    ],
    [
      'localEnv value',
      { localEnv: { KEY: '${grpc:identifier}' } },
      /localEnv\.KEY: may contain \$\{secret:<name>:base64-32\}/,
    ],
    ['secret format', { localEnv: { KEY: '${secret:key:hex}' } }, /localEnv\.KEY: may contain/],
  ])('rejects a bad %s', (_what, overrides, expected) => {
    const problems = problemsOf(sources({ ...manifest('solo'), ...overrides }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('rejects a port claimed twice, even by the same service', () => {
    const input = sources(
      manifest('alpha', { grpcPort: 50100, metricsPort: 9100 }),
      manifest('beta', { grpcPort: 50200, metricsPort: 50100 }),
      manifest('gamma', { grpcPort: 50300, metricsPort: 50300 }),
    );
    expect(problemsOf(input)).toEqual([
      'services/beta/service.json: metricsPort 50100 is already claimed by alpha (grpcPort in services/alpha/service.json)',
      'services/gamma/service.json: metricsPort 50300 is already claimed by gamma (grpcPort in services/gamma/service.json)',
    ]);
  });

  it('rejects databases, chart keys, gRPC services, streams and capabilities claimed twice', () => {
    const alpha = manifest('alpha', {
      provides: ['jwks'],
      events: { owns: ['ALPHA'], consumes: [] },
    });
    const beta = manifest('beta', {
      database: alpha.database,
      chart: alpha.chart,
      grpcServices: alpha.grpcServices,
      events: { owns: ['ALPHA'], consumes: [] },
      provides: ['jwks'],
    });
    expect(problemsOf(sources(alpha, beta))).toEqual([
      'services/beta/service.json: database alpha is already claimed by alpha (database in services/alpha/service.json)',
      'services/beta/service.json: chart.valuesKey alpha is already claimed by alpha (chart.valuesKey in services/alpha/service.json)',
      'services/beta/service.json: grpcServices cinode.alpha.v1.AlphaService is already claimed by alpha (grpcServices in services/alpha/service.json)',
      'services/beta/service.json: events.owns ALPHA is already claimed by alpha (events.owns in services/alpha/service.json)',
      'services/beta/service.json: provides jwks is already claimed by alpha (provides in services/alpha/service.json)',
    ]);
  });

  it('rejects a consumed stream that no service owns', () => {
    const input = sources(manifest('solo', { events: { owns: [], consumes: ['PARTICIPANT'] } }));
    expect(problemsOf(input)).toEqual([
      'services/solo/service.json: events.consumes names stream PARTICIPANT, which no service owns',
    ]);
  });

  it('rejects dependencies on unknown services and on the service itself', () => {
    const input = sources(
      manifest('solo', {
        dependencies: [
          { service: 'ghost', env: 'GHOST_ADDRESS', startAfter: false },
          { service: 'solo', env: 'SELF_ADDRESS', startAfter: false },
        ],
      }),
    );
    expect(problemsOf(input)).toEqual([
      'services/solo/service.json: dependencies[0].service names ghost, which has no services/ghost/service.json',
      'services/solo/service.json: dependencies[1].service names the service itself',
    ]);
  });

  it('rejects variables that the runner or a capability sets, or that are set twice', () => {
    const input = sources(
      manifest('center', { provides: ['jwks'] }),
      manifest('solo', {
        dependencies: [
          { service: 'center', env: 'CENTER_ADDRESS', startAfter: false },
          { service: 'center', env: 'DATABASE_URL', startAfter: false },
        ],
        localEnv: { CENTER_ADDRESS: 'x', AUTH_JWKS_ADDRESS: 'y' },
      }),
    );
    expect(problemsOf(input)).toEqual([
      'services/solo/service.json: dependencies[1].env sets DATABASE_URL, which the runner sets',
      'services/solo/service.json: localEnv.CENTER_ADDRESS sets CENTER_ADDRESS, as dependencies[0].env does',
      'services/solo/service.json: localEnv.AUTH_JWKS_ADDRESS sets AUTH_JWKS_ADDRESS, which a capability (provides) sets',
    ]);
  });

  it('rejects one secret name used with two formats', () => {
    const input = sources(
      manifest('alpha', { localEnv: { KEY: '${secret:shared:api-key}' } }),
      manifest('beta', { localEnv: { OTHER: 'x-${secret:shared:base64-32}' } }),
    );
    expect(problemsOf(input)).toEqual([
      'services/beta/service.json: localEnv.OTHER names secret shared as base64-32, but services/alpha/service.json localEnv.KEY as api-key',
    ]);
  });

  it('rejects a dependency cycle, capabilities included', () => {
    const input = sources(
      manifest('center', {
        provides: ['jwks'],
        dependencies: [{ service: 'worker', env: 'WORKER_ADDRESS', startAfter: true }],
      }),
      manifest('worker'),
    );
    expect(problemsOf(input)).toEqual([
      'services/center/service.json: dependency cycle center -> worker -> center (capabilities count as dependencies; a startAfter false call may close a loop)',
    ]);
  });

  it('accepts a loop closed by a startAfter false call', () => {
    const input = sources(
      manifest('center', {
        provides: ['jwks'],
        dependencies: [{ service: 'worker', env: 'WORKER_ADDRESS', startAfter: false }],
      }),
      manifest('worker'),
    );
    expect(problemsOf(input)).toEqual([]);
  });

  it('reports every problem of every file at once', () => {
    const input = sources(
      { ...manifest('alpha'), grpcPort: 'fast' },
      manifest('beta', {
        database: 'beta',
        dependencies: [{ service: 'ghost', env: 'G', startAfter: true }],
      }),
      manifest('gamma', { database: 'beta' }),
    );
    expect(problemsOf(input)).toEqual([
      'services/alpha/service.json: grpcPort: Invalid input: expected number, received string',
      'services/gamma/service.json: database beta is already claimed by beta (database in services/beta/service.json)',
      'services/beta/service.json: dependencies[0].service names ghost, which has no services/ghost/service.json',
    ]);
  });

  it('puts every problem in the error message', () => {
    expect(() => validateManifests(sources({ ...manifest('solo'), extra: 1 }))).toThrow(
      'invalid service manifests:\n  services/solo/service.json: top level: unknown key "extra"',
    );
  });
});
