// @ts-check
'use strict';

/**
 * The edits to files other services share (the chart, compose, init-databases.sql, the e2e
 * project). Each is a text insertion that leaves the rest of the file as it was, comments and
 * layout included, so the diff of a generated service shows only what it added.
 */
const { updateJson } = require('@nx/devkit');

const VALUES_FILE = 'charts/cinode/values.yaml';
const VALUES_SCHEMA_FILE = 'charts/cinode/values.schema.json';
const HELPERS_FILE = 'charts/cinode/templates/_helpers.tpl';
const SERVICE_SETTINGS_FILE = 'charts/cinode/templates/_service-settings.tpl';
const COMPOSE_FILE = 'deploy/compose.yaml';
const INIT_DATABASES_FILE = 'deploy/postgres/init-databases.sql';
const E2E_PROJECT_FILE = 'e2e/project.json';

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {string} path
 */
function read(tree, path) {
  const text = tree.read(path, 'utf-8');
  if (text === null) throw new Error(`${path} is missing: run the generator at the workspace root`);
  return text;
}

/**
 * The values block, in the shape of every other service's (values.schema.json
 * `#/definitions/service`), each key documented in place for the chart's README. Off by default:
 * the chart test's expectations count the resources of the default and ci/ variants, and a new
 * service joins an install when its owner turns it on.
 * @param {import('./names').ServiceNames} names
 * @param {{ grpcPort: number, metricsPort: number }} ports
 */
function valuesBlock(names, ports) {
  const k = names.valuesKey;
  return `
${k}:
  ## @param ${k}.enabled Deploy ${names.name} (off until it is ready for installs)
  enabled: false
  ## @param ${k}.replicaCount Replicas (ignored when autoscaling is enabled)
  replicaCount: 2
  ## @param ${k}.grpcPort gRPC port (GRPC_PORT)
  grpcPort: ${ports.grpcPort}
  ## @param ${k}.metricsPort Prometheus metrics port (METRICS_PORT)
  metricsPort: ${ports.metricsPort}
  ## @param ${k}.logLevel Log level override (empty: logLevel)
  logLevel: ''
  database:
    ## @param ${k}.database.name Database of this service on the PostgreSQL server
    name: ${names.database}
    ## @param ${k}.database.existingSecret Existing secret with this service's full DATABASE_URL (wins over postgresql.*)
    existingSecret: ''
    ## @param ${k}.database.existingSecretKey Key of DATABASE_URL in that secret
    existingSecretKey: database-url
  migration:
    ## @param ${k}.migration.enabled Run migrations in a pre-install/pre-upgrade hook Job (else at start-up, DB_MIGRATE_ON_START=true)
    enabled: true
  ## @param ${k}.healthService gRPC health service name the probes ask for (empty: the whole server)
  healthService: ''
  probes:
    ## @param ${k}.probes.startup Startup probe timings (the check itself is set by the chart)
    startup:
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 30
    ## @param ${k}.probes.liveness Liveness probe timings
    liveness:
      periodSeconds: 20
      timeoutSeconds: 3
      failureThreshold: 3
    ## @param ${k}.probes.readiness Readiness probe timings
    readiness:
      periodSeconds: 10
      timeoutSeconds: 3
      failureThreshold: 3
  ## @param ${k}.resources Container resources
  resources:
    requests:
      cpu: 50m
      memory: 128Mi
    limits:
      memory: 512Mi
  ## @param ${k}.extraEnv Extra environment variables of this service
  extraEnv: []
  ## @param ${k}.podAnnotations Extra pod annotations
  podAnnotations: {}
  ## @param ${k}.podLabels Extra pod labels
  podLabels: {}
  ## @param ${k}.nodeSelector Node selector
  nodeSelector: {}
  ## @param ${k}.tolerations Tolerations
  tolerations: []
  ## @param ${k}.affinity Affinity
  affinity: {}
  ## @param ${k}.topologySpreadConstraints Topology spread constraints (the chart fills in the label selector when omitted)
  topologySpreadConstraints: []
  ## @param ${k}.priorityClassName Priority class
  priorityClassName: ''
  ## @param ${k}.terminationGracePeriodSeconds Time to drain in-flight RPCs on shutdown
  terminationGracePeriodSeconds: 30
  service:
    ## @param ${k}.service.type Service type
    type: ClusterIP
    ## @param ${k}.service.annotations Service annotations
    annotations: {}
  pdb:
    ## @param ${k}.pdb.enabled Create a PodDisruptionBudget
    enabled: true
    ## @param ${k}.pdb.maxUnavailable Pods that may be down at once during voluntary disruptions
    maxUnavailable: 1
  autoscaling:
    ## @param ${k}.autoscaling.enabled Create a HorizontalPodAutoscaler (autoscaling/v2)
    enabled: false
    ## @param ${k}.autoscaling.minReplicas Minimum replicas
    minReplicas: 2
    ## @param ${k}.autoscaling.maxReplicas Maximum replicas
    maxReplicas: 4
    ## @param ${k}.autoscaling.targetCPUUtilizationPercentage Target average CPU utilisation (0 disables the metric)
    targetCPUUtilizationPercentage: 75
    ## @param ${k}.autoscaling.targetMemoryUtilizationPercentage Target average memory utilisation (0 disables the metric)
    targetMemoryUtilizationPercentage: 0
  serviceMonitor:
    ## @param ${k}.serviceMonitor.enabled Create this service's ServiceMonitor when serviceMonitor.enabled is true
    enabled: true
`;
}

/**
 * The chart entry: the values block and its schema property, the name in `cinode.components`
 * (last: it starts after the JWKS provider, which is listed before it), and empty
 * `cinode.env.<name>` / `cinode.egress.<name>` definitions. templates/<name>/ comes from the
 * file templates.
 * @param {import('@nx/devkit').Tree} tree
 * @param {import('./names').ServiceNames} names
 * @param {{ grpcPort: number, metricsPort: number }} ports
 */
function addChartEntry(tree, names, ports) {
  const values = read(tree, VALUES_FILE);
  if (new RegExp(`^${names.valuesKey}:`, 'm').test(values))
    throw new Error(`${VALUES_FILE} has a ${names.valuesKey} block already`);
  tree.write(VALUES_FILE, `${values.replace(/\n*$/, '\n')}${valuesBlock(names, ports)}`);

  updateJson(tree, VALUES_SCHEMA_FILE, (schema) => {
    schema.properties[names.valuesKey] = {
      allOf: [{ $ref: '#/definitions/service' }, { $ref: '#/definitions/noSettings' }],
    };
    return schema;
  });

  const helpers = read(tree, HELPERS_FILE);
  const components =
    /(\{\{- define "cinode\.components" -\}\}\n(?:[a-z0-9-]+\n)*)(\{\{- end -\}\})/;
  if (!components.test(helpers))
    throw new Error(`${HELPERS_FILE}: cannot find the cinode.components list to add ${names.name}`);
  tree.write(HELPERS_FILE, helpers.replace(components, `$1${names.name}\n$2`));

  const settings = read(tree, SERVICE_SETTINGS_FILE);
  const banner = `{{/* ---- ${names.name} `;
  const section = `
${banner}${'-'.repeat(Math.max(4, 97 - banner.length))} */}}

{{- define "cinode.env.${names.name}" -}}
{{- end -}}

{{- define "cinode.egress.${names.name}" -}}
{{- end -}}
`;
  tree.write(SERVICE_SETTINGS_FILE, `${settings.replace(/\n*$/, '\n')}${section}`);
}

/**
 * `<name>-migrate` and `<name>` in deploy/compose.yaml, shaped like the national-node mock's: the
 * shared `*cinode-env` carries AUTH_JWKS_ADDRESS, so the service waits for the JWKS provider.
 * @param {import('@nx/devkit').Tree} tree
 * @param {import('./names').ServiceNames} names
 * @param {{ grpcPort: number, metricsPort: number }} ports
 * @param {string | undefined} jwksProvider the service that provides `jwks`, if any
 */
function addComposeServices(tree, names, ports, jwksProvider) {
  const compose = read(tree, COMPOSE_FILE);
  const marker = '\nvolumes:\n';
  const at = compose.lastIndexOf(marker);
  if (at === -1) throw new Error(`${COMPOSE_FILE}: cannot find the top-level volumes: key`);
  const entry = `dist/services/${names.name}/src/main.js`;
  const provider = jwksProvider
    ? `
      ${jwksProvider}:
        condition: service_started`
    : '';
  const services = `
  ${names.name}-migrate:
    <<: *cinode
    command: ['node', '${entry}', 'migrate']
    environment: &${names.name}-env
      <<: *cinode-env
      OTEL_SERVICE_NAME: ${names.name}
      GRPC_PORT: '${ports.grpcPort}'
      METRICS_PORT: '${ports.metricsPort}'
      DATABASE_URL: postgresql://cinode:cinode@postgres:5432/${names.database}
    depends_on:
      databases:
        condition: service_completed_successfully
    restart: 'no'

  ${names.name}:
    <<: *cinode
    command: ['node', '${entry}']
    environment:
      <<: *${names.name}-env
      DB_MIGRATE_ON_START: 'false'
    depends_on:
      ${names.name}-migrate:
        condition: service_completed_successfully
      nats:
        condition: service_healthy${provider}
    ports:
      - '127.0.0.1:${ports.grpcPort}:${ports.grpcPort}'
      - '127.0.0.1:${ports.metricsPort}:${ports.metricsPort}'
    restart: unless-stopped
`;
  tree.write(COMPOSE_FILE, `${compose.slice(0, at)}\n${services}${compose.slice(at)}`);
}

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {import('./names').ServiceNames} names
 */
function addDatabase(tree, names) {
  const sql = read(tree, INIT_DATABASES_FILE);
  tree.write(
    INIT_DATABASES_FILE,
    `${sql.replace(/\n*$/, '\n')}CREATE DATABASE ${names.database};\n`,
  );
}

/**
 * The e2e project runs the built service: it depends on the project and on its build.
 * @param {import('@nx/devkit').Tree} tree
 * @param {import('./names').ServiceNames} names
 */
function addToE2eProject(tree, names) {
  updateJson(tree, E2E_PROJECT_FILE, (project) => {
    project.implicitDependencies = [...(project.implicitDependencies ?? []), names.name];
    const test = (project.targets.test ??= {});
    test.dependsOn = [...(test.dependsOn ?? []), `${names.name}:build`];
    return project;
  });
}

module.exports = {
  addChartEntry,
  addComposeServices,
  addDatabase,
  addToE2eProject,
  VALUES_FILE,
  VALUES_SCHEMA_FILE,
  HELPERS_FILE,
  SERVICE_SETTINGS_FILE,
  COMPOSE_FILE,
  INIT_DATABASES_FILE,
  E2E_PROJECT_FILE,
};
