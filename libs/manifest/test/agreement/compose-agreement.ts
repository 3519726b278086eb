import { parse } from 'yaml';
import { manifestPath } from '../../src/load-manifests';
import type { ServiceManifest } from '../../src/service-manifest';
import { resolvedDependencies } from '../../src/topology';
import { list, mapping, scalar, type Mapping } from './parsed-values';

export const COMPOSE_FILE = 'deploy/compose.yaml';
/** The image every cinode service of the compose file runs. */
const CINODE_IMAGE = 'cinode/cinode:dev';

/**
 * Where deploy/compose.yaml disagrees with the manifests, one message per disagreement naming
 * the file, the compose service and the key: a `<name>` and a `<name>-migrate` service per
 * manifest running its built entry point, with the manifest's GRPC_PORT, METRICS_PORT,
 * OTEL_SERVICE_NAME and database (in DATABASE_URL), every dependency's variable (capabilities
 * included, e.g. AUTH_JWKS_ADDRESS) pointing at `<dependency>:<its grpcPort>`; the service
 * depending on its migration and on every service it calls, publishing both ports on loopback;
 * and no cinode service without a manifest.
 */
export function composeDisagreements(
  manifests: readonly ServiceManifest[],
  composeText: string,
): string[] {
  const problems: string[] = [];
  // merge: the file shares settings through YAML merge keys (`<<: *cinode`).
  const services = mapping(mapping(parse(composeText, { merge: true }))?.['services']) ?? {};
  const byName = new Map(manifests.map((m) => [m.name, m]));

  for (const manifest of manifests) {
    const source = manifestPath(manifest.name);
    for (const migrate of [false, true]) {
      const name = migrate ? `${manifest.name}-migrate` : manifest.name;
      const service = mapping(services[name]);
      if (service === undefined) {
        problems.push(`${COMPOSE_FILE}: services.${name} is missing (${source})`);
        continue;
      }
      const at = (key: string): string => `${COMPOSE_FILE}: services.${name}.${key}`;
      const expectedCommand = ['node', `dist/services/${manifest.name}/src/main.js`];
      if (migrate) expectedCommand.push('migrate');
      const command = (list(service['command']) ?? []).map(scalar);
      if (JSON.stringify(command) !== JSON.stringify(expectedCommand))
        problems.push(
          `${at('command')} is ${JSON.stringify(command)}, expected ${JSON.stringify(expectedCommand)}`,
        );

      const env = mapping(service['environment']) ?? {};
      const expectEnv = (key: string, expected: string, why: string): void => {
        const actual = scalar(env[key]);
        if (actual !== expected)
          problems.push(
            `${at(`environment.${key}`)} is ${actual ?? 'unset'}, but ${source} says ${expected} (${why})`,
          );
      };
      expectEnv('GRPC_PORT', String(manifest.grpcPort), 'grpcPort');
      expectEnv('METRICS_PORT', String(manifest.metricsPort), 'metricsPort');
      expectEnv('OTEL_SERVICE_NAME', manifest.name, 'name');
      const database = databaseOf(scalar(env['DATABASE_URL']));
      if (database !== manifest.database)
        problems.push(
          `${at('environment.DATABASE_URL')} names database ${database ?? '(none)'}, but ${source} says ${manifest.database} (database)`,
        );
      for (const dependency of resolvedDependencies(manifest, manifests)) {
        const target = byName.get(dependency.service);
        if (target === undefined) continue;
        expectEnv(
          dependency.env,
          `${target.name}:${target.grpcPort}`,
          dependency.via === 'dependency'
            ? 'dependencies'
            : `${target.name} provides ${dependency.via}`,
        );
      }
      if (!migrate) problems.push(...runtimeProblems(manifest, manifests, service, at));
    }
  }

  for (const [name, value] of Object.entries(services)) {
    if (scalar(mapping(value)?.['image']) !== CINODE_IMAGE) continue;
    const base = name.replace(/-migrate$/, '');
    if (!byName.has(base))
      problems.push(
        `${COMPOSE_FILE}: services.${name} runs ${CINODE_IMAGE} but there is no ${manifestPath(base)}`,
      );
  }
  return problems;
}

function runtimeProblems(
  manifest: ServiceManifest,
  manifests: readonly ServiceManifest[],
  service: Mapping,
  at: (key: string) => string,
): string[] {
  const problems: string[] = [];
  const dependsOn = mapping(service['depends_on']) ?? {};
  const migration = scalar(mapping(dependsOn[`${manifest.name}-migrate`])?.['condition']);
  if (migration !== 'service_completed_successfully')
    problems.push(
      `${at(`depends_on.${manifest.name}-migrate`)} must be condition service_completed_successfully`,
    );
  // Compose starts in depends_on order, which must be acyclic: only start-order edges need one.
  for (const dependency of resolvedDependencies(manifest, manifests)) {
    if (dependency.startAfter && !(dependency.service in dependsOn))
      problems.push(
        `${at(`depends_on.${dependency.service}`)} is missing: ${manifestPath(manifest.name)} calls ${dependency.service} (${dependency.via === 'dependency' ? 'dependencies' : `${dependency.service} provides ${dependency.via}`})`,
      );
  }
  const ports = new Set((list(service['ports']) ?? []).map(scalar));
  for (const port of [manifest.grpcPort, manifest.metricsPort]) {
    const published = `127.0.0.1:${port}:${port}`;
    if (!ports.has(published)) problems.push(`${at('ports')} lacks '${published}'`);
  }
  return problems;
}

function databaseOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  } catch {
    return undefined;
  }
}
