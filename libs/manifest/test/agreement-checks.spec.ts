import { loadManifests } from '../src/load-manifests';
import type { ServiceManifest } from '../src/service-manifest';
import {
  chartDisagreements,
  chartValuesKey,
  defineBody,
  type ChartSources,
} from './agreement/chart-agreement';
import { COMPOSE_FILE, composeDisagreements } from './agreement/compose-agreement';
import { INIT_DATABASES_FILE, initDatabasesDisagreements } from './agreement/sql-agreement';
import { chartSources, readWorkspaceFile, WORKSPACE_ROOT } from './agreement/workspace-files';

/**
 * Each agreement check fails, naming the file and the disagreeing key, when a copy of the real
 * file is edited the way a person might get it wrong.
 */
const manifests = loadManifests(WORKSPACE_ROOT);
const compose = readWorkspaceFile(COMPOSE_FILE);
const initSql = readWorkspaceFile(INIT_DATABASES_FILE);

/** `text` with every `from` replaced; fails if `from` is not there, so no mutation is a no-op. */
function edited(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.split(from).join(to);
}

function withChart(change: (chart: ChartSources) => Partial<ChartSources>): ChartSources {
  const chart = chartSources();
  return { ...chart, ...change(chart) };
}

/** The manifests with `name`'s replaced by `change` of it. */
function withManifest(
  name: string,
  change: (manifest: ServiceManifest) => ServiceManifest,
): ServiceManifest[] {
  expect(manifests.map((m) => m.name)).toContain(name);
  return manifests.map((m) => (m.name === name ? change(m) : m));
}

const billing: ServiceManifest = {
  name: 'billing',
  description: 'Billing.',
  grpcPort: 50099,
  metricsPort: 9499,
  grpcServices: ['cinode.billing.v1.BillingService'],
  database: 'billing',
  events: { owns: [], consumes: [] },
  provides: [],
  dependencies: [],
  chart: { valuesKey: 'billing' },
};

describe(composeDisagreements.name, () => {
  it("names a service's port that differs, in the service and its migration", () => {
    expect(
      composeDisagreements(manifests, edited(compose, "GRPC_PORT: '50064'", "GRPC_PORT: '50065'")),
    ).toEqual([
      'deploy/compose.yaml: services.identifier.environment.GRPC_PORT is 50065, but services/identifier/service.json says 50064 (grpcPort)',
      'deploy/compose.yaml: services.identifier-migrate.environment.GRPC_PORT is 50065, but services/identifier/service.json says 50064 (grpcPort)',
    ]);
    expect(
      composeDisagreements(
        manifests,
        edited(compose, "METRICS_PORT: '9470'", "METRICS_PORT: '9471'"),
      ),
    ).toEqual([
      'deploy/compose.yaml: services.national-node-mock.environment.METRICS_PORT is 9471, but services/national-node-mock/service.json says 9470 (metricsPort)',
      'deploy/compose.yaml: services.national-node-mock-migrate.environment.METRICS_PORT is 9471, but services/national-node-mock/service.json says 9470 (metricsPort)',
    ]);
  });

  it('names a database that differs', () => {
    const problems = composeDisagreements(
      manifests,
      edited(compose, 'postgres:5432/identifier', 'postgres:5432/identifiers'),
    );
    expect(problems).toContain(
      'deploy/compose.yaml: services.identifier.environment.DATABASE_URL names database identifiers, but services/identifier/service.json says identifier (database)',
    );
    expect(problems).toHaveLength(2);
  });

  it("names a dependency's address that differs, capabilities included", () => {
    expect(
      composeDisagreements(
        manifests,
        edited(compose, 'national-node-mock:50070', 'national-node-mock:50071'),
      ),
    ).toContain(
      'deploy/compose.yaml: services.identifier.environment.NATIONAL_NODE_ADDRESS is national-node-mock:50071, but services/identifier/service.json says national-node-mock:50070 (dependencies)',
    );
    const jwks = composeDisagreements(
      manifests,
      edited(
        compose,
        'AUTH_JWKS_ADDRESS: service-center:50061',
        'AUTH_JWKS_ADDRESS: service-center:50062',
      ),
    );
    expect(jwks).toContain(
      'deploy/compose.yaml: services.national-node-mock.environment.AUTH_JWKS_ADDRESS is service-center:50062, but services/national-node-mock/service.json says service-center:50061 (service-center provides jwks)',
    );
    // Every service but the provider calls it, each in its service and its migration.
    const callers = manifests.filter((m) => !m.provides.includes('jwks'));
    expect(callers.length).toBeGreaterThan(1);
    expect(jwks).toHaveLength(2 * callers.length);
  });

  it('names a missing dependency, published port or migrate argument', () => {
    // The identifier calls the mock without waiting for it (startAfter false): no order needed.
    const withoutMock = edited(
      compose,
      '      national-node-mock:\n        condition: service_started\n',
      '',
    );
    expect(composeDisagreements(manifests, withoutMock)).toEqual([]);
    // Resource aggregation starts only after the identifier service (startAfter true).
    const withoutIdentifier = edited(
      compose,
      '      identifier:\n        condition: service_started\n',
      '',
    );
    expect(composeDisagreements(manifests, withoutIdentifier)).toContain(
      'deploy/compose.yaml: services.resource-aggregation.depends_on.identifier is missing: services/resource-aggregation/service.json calls identifier (dependencies)',
    );
    expect(
      composeDisagreements(
        manifests,
        edited(compose, "'127.0.0.1:9464:9464'", "'127.0.0.1:9465:9464'"),
      ),
    ).toEqual(["deploy/compose.yaml: services.identifier.ports lacks '127.0.0.1:9464:9464'"]);
    expect(
      composeDisagreements(
        manifests,
        edited(
          compose,
          "'dist/services/identifier/src/main.js', 'migrate'",
          "'dist/services/identifier/src/main.js'",
        ),
      ),
    ).toEqual([
      'deploy/compose.yaml: services.identifier-migrate.command is ["node","dist/services/identifier/src/main.js"], expected ["node","dist/services/identifier/src/main.js","migrate"]',
    ]);
  });

  it('names a service missing from the file and a cinode service without a manifest', () => {
    expect(
      composeDisagreements(
        manifests,
        edited(compose, '\n  identifier-migrate:\n', '\n  identifier-migration:\n'),
      ),
    ).toEqual([
      'deploy/compose.yaml: services.identifier-migrate is missing (services/identifier/service.json)',
      'deploy/compose.yaml: services.identifier-migration runs cinode/cinode:dev but there is no services/identifier-migration/service.json',
    ]);
    expect(composeDisagreements([...manifests, billing], compose)).toEqual([
      'deploy/compose.yaml: services.billing is missing (services/billing/service.json)',
      'deploy/compose.yaml: services.billing-migrate is missing (services/billing/service.json)',
    ]);
  });
});

describe(initDatabasesDisagreements.name, () => {
  it('names a database that is not created, or created without a manifest', () => {
    expect(
      initDatabasesDisagreements(
        manifests,
        edited(initSql, 'CREATE DATABASE identifier;', 'CREATE DATABASE billing;'),
      ),
    ).toEqual([
      'deploy/postgres/init-databases.sql: no "CREATE DATABASE identifier;" (services/identifier/service.json database)',
      'deploy/postgres/init-databases.sql: creates billing, which no service.json names',
    ]);
  });
});

describe(chartDisagreements.name, () => {
  it('names a values key that differs from the manifest', () => {
    expect(
      chartDisagreements(
        manifests,
        withChart((c) => ({
          valuesYaml: edited(c.valuesYaml, 'grpcPort: 50064', 'grpcPort: 50065'),
        })),
      ),
    ).toEqual([
      'charts/cinode/values.yaml: identifier.grpcPort is 50065, but services/identifier/service.json says 50064',
    ]);
    expect(
      chartDisagreements(
        manifests,
        withChart((c) => ({
          valuesYaml: edited(c.valuesYaml, 'name: national_node_mock', 'name: national_node'),
        })),
      ),
    ).toEqual([
      'charts/cinode/values.yaml: nationalNodeMock.database.name is national_node, but services/national-node-mock/service.json says national_node_mock',
    ]);
  });

  it("names a manifest's chart key that the chart does not derive from its name", () => {
    const renamed = withManifest('national-node-mock', (m) => ({
      ...m,
      chart: { valuesKey: 'nationalMock' },
    }));
    expect(chartDisagreements(renamed, chartSources())).toEqual(
      expect.arrayContaining([
        'services/national-node-mock/service.json: chart.valuesKey is nationalMock, but cinode.valuesKey in charts/cinode/templates/_helpers.tpl makes nationalNodeMock of the name',
        'charts/cinode/values.yaml: nationalMock is missing (services/national-node-mock/service.json chart.valuesKey)',
        'charts/cinode/values.yaml: nationalNodeMock is a service block, but no service.json has chart.valuesKey nationalNodeMock',
      ]),
    );
  });

  it('names a component missing from cinode.components, or listed before a service it starts after', () => {
    const components = (order: string): Partial<ChartSources> => ({
      helpersTpl: edited(
        chartSources().helpersTpl,
        'service-center\nnational-node-mock\nidentifier\n',
        order,
      ),
    });
    expect(
      chartDisagreements(
        manifests,
        withChart(() => components('service-center\nnational-node-mock\n')),
      ),
    ).toEqual([
      'charts/cinode/templates/_helpers.tpl: cinode.components lacks identifier (services/identifier/service.json)',
    ]);
    expect(
      chartDisagreements(
        manifests,
        withChart(() => components('identifier\nservice-center\nnational-node-mock\n')),
      ),
    ).toEqual([
      'charts/cinode/templates/_helpers.tpl: cinode.components lists identifier before service-center, which it starts after (start-up order)',
    ]);
  });

  it('names a missing or extra template directory and service settings', () => {
    expect(
      chartDisagreements(
        manifests,
        withChart((c) => ({
          templateDirs: [...c.templateDirs.filter((d) => d !== 'identifier'), 'billing'],
        })),
      ),
    ).toEqual([
      'charts/cinode/templates/identifier/ is missing (services/identifier/service.json)',
      'charts/cinode/templates/billing/ has no services/billing/service.json',
    ]);
    expect(
      chartDisagreements(
        manifests,
        withChart((c) => ({
          serviceSettingsTpl: edited(
            c.serviceSettingsTpl,
            'define "cinode.egress.national-node-mock"',
            'define "cinode.egress.national-node-mck"',
          ),
        })),
      ),
    ).toEqual([
      'charts/cinode/templates/_service-settings.tpl: cinode.egress.national-node-mock is not defined (services/national-node-mock/service.json)',
      'charts/cinode/templates/_service-settings.tpl: defines cinode.egress.national-node-mck, which has no services/national-node-mck/service.json',
    ]);
  });

  it("names a dependency's variable that is not set, or an address not built from the callee's port", () => {
    expect(
      chartDisagreements(
        manifests,
        withChart((c) => ({
          serviceSettingsTpl: edited(
            c.serviceSettingsTpl,
            '- name: NATIONAL_NODE_ADDRESS',
            '- name: NATIONAL_NODE_ENDPOINT',
          ),
        })),
      ),
    ).toEqual([
      'charts/cinode/templates/_service-settings.tpl: cinode.env.identifier does not set NATIONAL_NODE_ADDRESS (services/identifier/service.json calls national-node-mock through it)',
      'charts/cinode/templates/_service-settings.tpl: cinode.env.reporting does not set NATIONAL_NODE_ADDRESS (services/reporting/service.json calls national-node-mock through it)',
    ]);
    expect(
      chartDisagreements(
        manifests,
        withChart((c) => ({
          helpersTpl: edited(
            c.helpersTpl,
            '(int .Values.serviceCenter.grpcPort)',
            '(int .Values.identifier.grpcPort)',
          ),
        })),
      ).sort(),
    ).toEqual(
      // Every caller of the JWKS provider, this repository's and any generated since, and every
      // service that calls the service center itself.
      [
        ...manifests
          .filter((m) => !m.provides.includes('jwks'))
          .map((m) => `${m.name}'s AUTH_JWKS_ADDRESS`),
        ...manifests.flatMap((m) =>
          m.dependencies
            .filter((d) => d.service === 'service-center')
            .map((d) => `${m.name}'s ${d.env}`),
        ),
      ]
        .map(
          (what) =>
            `charts/cinode/templates: no in-cluster address of service-center built from .Values.serviceCenter.grpcPort (${what})`,
        )
        .sort(),
    );
  });

  it('names everything a new service still lacks in the chart', () => {
    expect(chartDisagreements([...manifests, billing], chartSources())).toEqual([
      'charts/cinode/values.yaml: billing is missing (services/billing/service.json chart.valuesKey)',
      'charts/cinode/templates/_helpers.tpl: cinode.components lacks billing (services/billing/service.json)',
      'charts/cinode/templates/billing/ is missing (services/billing/service.json)',
      'charts/cinode/templates/_service-settings.tpl: cinode.env.billing is not defined (services/billing/service.json)',
      'charts/cinode/templates/_service-settings.tpl: cinode.egress.billing is not defined (services/billing/service.json)',
    ]);
  });
});

describe('chart template helpers', () => {
  it('derive values keys as cinode.valuesKey does', () => {
    expect(chartValuesKey('national-node-mock')).toBe('nationalNodeMock');
    expect(chartValuesKey('identifier')).toBe('identifier');
  });

  it('find a definition body past nested blocks', () => {
    const template =
      '{{- define "a" -}}\nx{{ if .y }}y{{ end }}z\n{{- end -}}\n{{- define "b" -}}b{{- end -}}';
    expect(defineBody(template, 'a')).toBe('\nx{{ if .y }}y{{ end }}z\n');
    expect(defineBody(template, 'b')).toBe('b');
    expect(defineBody(template, 'c')).toBeUndefined();
  });
});
