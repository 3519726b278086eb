import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client as PgClient } from 'pg';
import { parseAllDocuments } from 'yaml';
import { newSecret, planNode, type ServicePorts } from '@cinode/launcher';
import { checkGrpcHealth, findFreePort, waitForGrpcServing } from '@cinode/local-infra';
import { loadManifests, RUNNER_ENV, type ServiceManifest } from '@cinode/manifest';
import {
  createTestAuth,
  createTestDatabase,
  TEST_INFRA_ENV,
  testNatsUrl,
  WORKSPACE_ROOT,
} from '@cinode/testing';
import { killAll, run, start, stop, type CommandResult } from './processes';
import { reflectedServices } from './reflection-client';
import { copyWorkspace, removeCopy } from './workspace-copy';

/** The throwaway service: two words, so every spelling of the name is exercised. */
const NAME = 'probe-ledger';
const DATABASE = 'probe_ledger';
const VALUES_KEY = 'probeLedger';
const GRPC_SERVICE = 'cinode.probe_ledger.v1.ProbeLedgerService';
const PROTO_FILE = 'proto/cinode/probe_ledger/v1/probe_ledger_service.proto';
const PROTO_TYPES = 'libs/proto/src/gen/cinode/probe_ledger/v1/probe_ledger_service.ts';
const E2E_SPEC = `e2e/src/${NAME}.e2e-spec.ts`;
const CHART_VARIANT = 'charts/cinode/ci/generated-service-values.yaml';

/** What docs/adding-a-service.md says the generator creates, besides the edits to shared files. */
const CREATED_FILES = [
  'service.json',
  'project.json',
  'tsconfig.json',
  'tsconfig.app.json',
  'README.md',
  'src/main.ts',
  'src/service.ts',
  'src/config.ts',
  'src/app.module.ts',
  'src/schema.ts',
  'src/errors.ts',
  'src/data-source.ts',
  'src/items/item.entity.ts',
  'src/items/items.repository.ts',
  'src/items/items.service.ts',
  'src/items/items.service.spec.ts',
  'src/items/items.grpc-controller.ts',
  'src/items/items.mapper.ts',
  'src/items/items.module.ts',
  'test/schema.integration-spec.ts',
].map((file) => `services/${NAME}/${file}`);

const CHART_TEMPLATES = [
  'deployment',
  'hpa',
  'migration-job',
  'networkpolicy',
  'pdb',
  'service',
  'servicemonitor',
].map((kind) => `charts/cinode/templates/${NAME}/${NAME}-${kind}.yaml`);

function lastLines(text: string, count = 60): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/**
 * Generates a throwaway service in a copy of the workspace and proves, in that copy, everything
 * the generator promises: the proto lints and its types generate; the service builds, type-checks,
 * lints and is formatted; its migration applies; it starts with the environment `npm start` plans
 * for it and answers health and reflection; its chart entry renders and validates; the agreement
 * tests, its own tests and its e2e smoke test pass.
 */
describe('the service generator (npx nx g ./tools/nx-plugin:service)', () => {
  let copy: string | undefined;
  let toolEnv: NodeJS.ProcessEnv;
  let generatorOutput = '';
  const timings: [string, number][] = [];

  function workspace(): string {
    if (copy === undefined) throw new Error('the workspace copy was not made');
    return copy;
  }

  function bin(tool: string): string {
    return join(workspace(), 'node_modules', '.bin', tool);
  }

  /** Runs a command in the copy; fails with the end of its output unless it exits 0. */
  async function inCopy(
    step: string,
    command: string,
    args: readonly string[],
    timeoutMs: number,
    env: NodeJS.ProcessEnv = toolEnv,
  ): Promise<CommandResult> {
    const result = await run(command, args, { cwd: workspace(), env, timeoutMs });
    timings.push([step, result.seconds]);
    if (result.code !== 0)
      throw new Error(
        `${step}: \`${[command, ...args].join(' ')}\` exited ${result.code}\n${lastLines(result.output)}`,
      );
    return result;
  }

  beforeAll(async () => {
    const copyStarted = performance.now();
    copy = copyWorkspace(WORKSPACE_ROOT);
    timings.push(['copy the workspace', (performance.now() - copyStarted) / 1000]);
    // The tools run as in a shell at the copy's root; nothing of this Jest worker leaks in.
    const { JEST_WORKER_ID: _worker, ...inherited } = process.env;
    toolEnv = {
      ...inherited,
      PATH: `${join(copy, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
    };
    const generated = await inCopy(
      'nx g (generator and proto types)',
      bin('nx'),
      ['g', './tools/nx-plugin:service', `--name=${NAME}`, '--no-interactive'],
      120_000,
    );
    generatorOutput = generated.output;
  }, 150_000);

  afterAll(async () => {
    await killAll();
    removeCopy(copy);
    process.stderr.write(
      `\nservice generator test, seconds per step:\n${timings
        .map(([step, seconds]) => `  ${seconds.toFixed(1).padStart(6)}  ${step}`)
        .join('\n')}\n`,
    );
  }, 30_000);

  it('writes a manifest the workspace accepts, with the next free ports, and every file', () => {
    const before = loadManifests(WORKSPACE_ROOT);
    // loadManifests validates every manifest and the rules across them (unique ports, ...).
    const manifest = loadManifests(workspace()).find((m) => m.name === NAME);
    expect(manifest).toEqual({
      $schema: '../../libs/manifest/service-manifest.schema.json',
      name: NAME,
      description: expect.any(String),
      grpcPort: Math.max(...before.map((m) => m.grpcPort)) + 1,
      metricsPort: Math.max(...before.map((m) => m.metricsPort)) + 1,
      grpcServices: [GRPC_SERVICE],
      database: DATABASE,
      events: { owns: [], consumes: [] },
      provides: [],
      dependencies: [],
      chart: { valuesKey: VALUES_KEY },
    });
    const files = [...CREATED_FILES, ...CHART_TEMPLATES, PROTO_FILE, PROTO_TYPES, E2E_SPEC];
    expect(files.filter((file) => !existsSync(join(workspace(), file)))).toEqual([]);
    expect(readdirSync(join(workspace(), `services/${NAME}/src/migrations`))).toEqual([
      expect.stringMatching(/^\d{13}-initial-schema\.ts$/),
    ]);
    const e2eProject = JSON.parse(readFileSync(join(workspace(), 'e2e/project.json'), 'utf8')) as {
      implicitDependencies: string[];
      targets: { test: { dependsOn: string[] } };
    };
    expect(e2eProject.implicitDependencies).toContain(NAME);
    expect(e2eProject.targets.test.dependsOn).toContain(`${NAME}:build`);
    expect(generatorOutput).toContain(`Generated ${NAME}`);
    expect(generatorOutput).toContain('Next:');
  });

  it('writes a proto that buf lints clean, with its TypeScript types generated', async () => {
    await inCopy('buf lint', bin('buf'), ['lint'], 60_000);
    await inCopy(
      'proto types up to date',
      process.execPath,
      ['scripts/proto-generate.mjs', '--check'],
      60_000,
    );
  }, 120_000);

  it('builds with its Nx build target', async () => {
    await inCopy(
      'nx run <name>:build',
      bin('nx'),
      [
        'run',
        `${NAME}:build`,
        '--excludeTaskDependencies',
        '--skipNxCache',
        '--outputStyle=static',
      ],
      180_000,
    );
    expect(existsSync(join(workspace(), `dist/services/${NAME}/src/main.js`))).toBe(true);
  }, 200_000);

  it('type-checks, lints and is formatted like the existing services', async () => {
    await inCopy('tsc (with tests)', bin('tsc'), ['-p', `services/${NAME}/tsconfig.json`], 120_000);
    // The e2e project's own config type-checks the smoke test.
    await inCopy('tsc (e2e)', bin('tsc'), ['-p', 'e2e/tsconfig.json'], 120_000);
    await inCopy(
      'eslint',
      bin('eslint'),
      ['--max-warnings=0', `services/${NAME}`, E2E_SPEC],
      120_000,
    );
    await inCopy(
      'prettier --check',
      bin('prettier'),
      [
        '--check',
        `services/${NAME}`,
        E2E_SPEC,
        'e2e/project.json',
        'charts/cinode/values.yaml',
        'charts/cinode/values.schema.json',
        'deploy/compose.yaml',
      ],
      60_000,
    );
  }, 300_000);

  it("migrates and starts with npm start's plan, answering health and reflection", async () => {
    const manifests = loadManifests(workspace());
    const auth = await createTestAuth();
    const taken = new Set<number>();
    const ports = new Map<string, ServicePorts>();
    for (const manifest of manifests) {
      const pair: number[] = [];
      while (pair.length < 2) {
        const port = await findFreePort();
        if (!taken.has(port)) {
          taken.add(port);
          pair.push(port);
        }
      }
      ports.set(manifest.name, { grpcPort: pair[0], metricsPort: pair[1] });
    }
    const ownDatabase = await createTestDatabase(`generated_${DATABASE}`);
    const otherDatabase = (m: ServiceManifest): string => {
      const url = new URL(ownDatabase);
      url.pathname = `/${m.database}`;
      return url.toString();
    };
    const secrets = new Map<string, string>();
    // What npm start plans (libs/launcher local-node.ts), with free ports and a test database;
    // of npm start's own environment only PATH passes beneath.
    const plan = planNode({
      manifests,
      host: '127.0.0.1',
      ports: (m) => ports.get(m.name) ?? { grpcPort: 0, metricsPort: 0 },
      databaseUrl: (m) => (m.name === NAME ? ownDatabase : otherDatabase(m)),
      natsUrl: testNatsUrl(),
      keys: { publicKeys: auth.publicKeys, serviceSigningKey: auth.serviceSigningKey },
      secret: (name, format) => {
        if (!secrets.has(name)) secrets.set(name, newSecret(format));
        return secrets.get(name) ?? '';
      },
      nodeEnv: 'development',
      logLevel: 'info',
      inheritedEnv: { PATH: process.env.PATH },
    });
    const service = plan.services.find((s) => s.name === NAME);
    if (service === undefined) throw new Error(`npm start's plan has no ${NAME}`);
    const jwks = manifests.find((m) => m.provides.includes('jwks'));
    const waveOf = (name: string): number =>
      plan.waves.findIndex((w) => w.some((s) => s.name === name));
    if (jwks) {
      // It verifies tokens with the JWKS provider's keys, so it starts after it.
      expect(waveOf(NAME)).toBeGreaterThan(waveOf(jwks.name));
      const provider = plan.services.find((s) => s.name === jwks.name);
      expect(service.env.AUTH_JWKS_ADDRESS).toBe(provider?.grpcAddress);
    }
    expect(Object.keys(service.env)).toEqual(expect.arrayContaining([...RUNNER_ENV]));
    expect(service.migrateCommand).toEqual([`dist/services/${NAME}/src/main.js`, 'migrate']);

    await inCopy('main.js migrate', process.execPath, service.migrateCommand, 60_000, service.env);
    const pg = new PgClient({ connectionString: ownDatabase });
    await pg.connect();
    try {
      const tables = await pg.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      expect(tables.rows.map((row) => row.name)).toEqual(
        expect.arrayContaining(['item', 'idempotency_key', 'audit_log', 'migrations']),
      );
      const applied = await pg.query<{ name: string }>('SELECT name FROM migrations');
      expect(applied.rows.map((row) => row.name)).toContainEqual(
        expect.stringMatching(/^InitialSchema\d{13}$/),
      );
    } finally {
      await pg.end();
    }

    const spawned = performance.now();
    const proc = start(process.execPath, service.command, { cwd: workspace(), env: service.env });
    let exitCode: number | null;
    try {
      const died = new AbortController();
      void proc.exited.then(() => died.abort());
      await waitForGrpcServing(service.grpcAddress, {
        timeoutMs: 30_000,
        signal: died.signal,
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- ${NAME} output ---\n${lastLines(proc.output())}`);
      });
      timings.push(['start until SERVING', (performance.now() - spawned) / 1000]);
      expect(await checkGrpcHealth(service.grpcAddress)).toBe('SERVING');
      expect(await checkGrpcHealth(service.grpcAddress, GRPC_SERVICE)).toBe('SERVING');
      expect(await reflectedServices(service.grpcAddress)).toEqual(
        expect.arrayContaining([GRPC_SERVICE, 'cinode.audit.v1.AuditService']),
      );
    } finally {
      exitCode = await stop(proc);
    }
    // A clean stop on SIGTERM, as npm start's Ctrl-C does it.
    expect(exitCode).toBe(0);
  }, 120_000);

  it('adds a chart entry that renders, validates and passes the chart test', async () => {
    // The block is off by default; a variant that turns it on puts its Deployment, Service, PDB
    // and migration Job through every check the chart test makes.
    const minimal = readFileSync(join(workspace(), 'charts/cinode/ci/minimal-values.yaml'), 'utf8');
    writeFileSync(
      join(workspace(), CHART_VARIANT),
      `${minimal}${VALUES_KEY}:\n  enabled: true\n  replicaCount: 1\n`,
    );
    const helm = await run(process.execPath, ['charts/cinode/test/helm.mjs'], {
      cwd: WORKSPACE_ROOT,
      env: toolEnv,
      timeoutMs: 300_000,
    });
    if (helm.code !== 0) throw new Error(`no helm:\n${lastLines(helm.output)}`);
    const helmBin = lastLines(helm.stdout, 1).trim();
    const env = { ...toolEnv, HELM_BIN: helmBin };
    const chartTest = await inCopy(
      'chart test',
      process.execPath,
      ['charts/cinode/test/chart-test.mjs'],
      180_000,
      env,
    );
    expect(chartTest.output).toContain('ci/generated-service-values.yaml');
    expect(lastLines(chartTest.output, 1)).toMatch(/ 0 failed$/);

    const rendered = await inCopy(
      'helm template',
      helmBin,
      ['template', 'cinode-test', 'charts/cinode', '-f', CHART_VARIANT],
      60_000,
      env,
    );
    const kinds = parseAllDocuments(rendered.stdout)
      .map((doc) => doc.toJS() as { kind?: string; metadata?: { labels?: Record<string, string> } })
      .filter((doc) => doc?.metadata?.labels?.['app.kubernetes.io/component']?.startsWith(NAME))
      .map((doc) => doc.kind)
      .sort();
    expect(kinds).toEqual(
      expect.arrayContaining(['Deployment', 'Job', 'PodDisruptionBudget', 'Service']),
    );
  }, 300_000);

  it('passes the agreement tests, its own unit and schema tests and its e2e smoke test', async () => {
    const env = {
      ...toolEnv,
      // The copy's Jest shares this run's Postgres and NATS instead of starting its own.
      TEST_DATABASE_URL: process.env[TEST_INFRA_ENV.postgresAdminUrl],
      TEST_NATS_URL: process.env[TEST_INFRA_ENV.natsUrl],
      CINODE_TEST_INFRA_QUIET: 'true',
    };
    // libs/manifest's load-manifests.spec.ts and agreement-checks.spec.ts pin today's list of
    // services, so they cannot pass with one more; these are the suites comparing the files.
    const suites = [
      'libs/manifest/test/topology-agreement.spec.ts',
      'libs/manifest/test/compose-env.spec.ts',
      'libs/manifest/test/contracts-agreement.spec.ts',
      `services/${NAME}/`,
      E2E_SPEC,
    ];
    const jest = await inCopy(
      'jest (agreement, unit, schema, e2e)',
      bin('jest'),
      ['--ci', ...suites],
      240_000,
      env,
    );
    for (const suite of [
      'libs/manifest/test/topology-agreement.spec.ts',
      `services/${NAME}/src/items/items.service.spec.ts`,
      `services/${NAME}/test/schema.integration-spec.ts`,
      E2E_SPEC,
    ])
      expect(jest.output).toContain(`PASS ${suite}`);
  }, 300_000);
});
