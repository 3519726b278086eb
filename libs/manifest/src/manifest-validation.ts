import type { z } from 'zod/v4';
import {
  CAPABILITIES,
  CAPABILITY_ENV,
  RUNNER_ENV,
  secretReferences,
  serviceManifestSchema,
  type ServiceManifest,
} from './service-manifest';
import { findDependencyCycle } from './topology';

/** One service.json as read from disk. */
export interface ManifestSource {
  /** Path shown in problems, e.g. `services/identifier/service.json`. */
  file: string;
  /** Name of the directory under services/ that holds it. */
  directory: string;
  text: string;
}

/** Every problem found in the manifests, each prefixed with the file it concerns. */
export class ManifestError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid service manifests:\n  ${problems.join('\n  ')}`);
    this.name = 'ManifestError';
  }
}

/**
 * Parses and validates every manifest, then checks the rules that span files: unique ports,
 * databases, chart keys and gRPC services; dependencies on services that exist, without cycles;
 * one provider per capability; consumed streams owned by some service; no variable set twice.
 * Throws a ManifestError listing every problem; returns the manifests sorted by name.
 */
export function validateManifests(sources: readonly ManifestSource[]): ServiceManifest[] {
  const problems: string[] = [];
  const parsed: { file: string; manifest: ServiceManifest }[] = [];

  for (const source of sources) {
    let json: unknown;
    try {
      json = JSON.parse(source.text);
    } catch (error: unknown) {
      problems.push(`${source.file}: not valid JSON (${errorMessage(error)})`);
      continue;
    }
    // reportInput: a missing key can then be told apart from a wrong value.
    const result = serviceManifestSchema.safeParse(json, { reportInput: true });
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(describeIssue(source.file, issue));
      continue;
    }
    if (result.data.name !== source.directory) {
      problems.push(
        `${source.file}: name "${result.data.name}" must equal its directory name "${source.directory}"`,
      );
    }
    parsed.push({ file: source.file, manifest: result.data });
  }

  problems.push(...crossFileProblems(parsed));
  if (problems.length > 0) throw new ManifestError(problems);
  return parsed.map((entry) => entry.manifest).sort((a, b) => compare(a.name, b.name));
}

function crossFileProblems(
  entries: readonly { file: string; manifest: ServiceManifest }[],
): string[] {
  const problems: string[] = [];
  const fileOf = new Map(entries.map((entry) => [entry.manifest.name, entry.file]));

  /** Reports each value claimed by a second manifest (or twice by one). */
  const unique = <T>(claims: (manifest: ServiceManifest) => { key: string; value: T }[]): void => {
    const owners = new Map<T, { name: string; key: string }>();
    for (const { file, manifest } of entries) {
      for (const { key, value } of claims(manifest)) {
        const owner = owners.get(value);
        if (owner === undefined) owners.set(value, { name: manifest.name, key });
        else {
          problems.push(
            `${file}: ${key} ${String(value)} is already claimed by ${owner.name} (${owner.key} in ${fileOf.get(owner.name)})`,
          );
        }
      }
    }
  };
  unique((m) => [
    { key: 'grpcPort', value: m.grpcPort },
    { key: 'metricsPort', value: m.metricsPort },
  ]);
  unique((m) => [{ key: 'database', value: m.database }]);
  unique((m) => [{ key: 'chart.valuesKey', value: m.chart.valuesKey }]);
  unique((m) => m.grpcServices.map((value) => ({ key: 'grpcServices', value })));
  unique((m) => m.events.owns.map((value) => ({ key: 'events.owns', value })));
  unique((m) => m.provides.map((value) => ({ key: 'provides', value })));

  const owned = new Set(entries.flatMap((entry) => entry.manifest.events.owns));
  const capabilityEnv = new Set(CAPABILITIES.map((capability) => CAPABILITY_ENV[capability]));
  const runnerEnv = new Set<string>(RUNNER_ENV);

  for (const { file, manifest } of entries) {
    for (const stream of manifest.events.consumes) {
      if (!owned.has(stream))
        problems.push(`${file}: events.consumes names stream ${stream}, which no service owns`);
    }
    const envSetters = new Map<string, string>();
    const claimEnv = (name: string, key: string): void => {
      if (runnerEnv.has(name)) problems.push(`${file}: ${key} sets ${name}, which the runner sets`);
      else if (capabilityEnv.has(name))
        problems.push(`${file}: ${key} sets ${name}, which a capability (provides) sets`);
      const earlier = envSetters.get(name);
      if (earlier !== undefined) problems.push(`${file}: ${key} sets ${name}, as ${earlier} does`);
      envSetters.set(name, key);
    };
    manifest.dependencies.forEach((dependency, i) => {
      const key = `dependencies[${i}]`;
      if (dependency.service === manifest.name)
        problems.push(`${file}: ${key}.service names the service itself`);
      else if (!fileOf.has(dependency.service))
        problems.push(
          `${file}: ${key}.service names ${dependency.service}, which has no services/${dependency.service}/service.json`,
        );
      claimEnv(dependency.env, `${key}.env`);
    });
    for (const name of Object.keys(manifest.localEnv ?? {})) claimEnv(name, `localEnv.${name}`);
  }

  // Secrets live in one directory per node, so one name must mean one kind of secret.
  const secretFormats = new Map<string, { format: string; where: string }>();
  for (const { file, manifest } of entries) {
    for (const [key, value] of Object.entries(manifest.localEnv ?? {})) {
      for (const { name, format } of secretReferences(value)) {
        const earlier = secretFormats.get(name);
        if (earlier === undefined)
          secretFormats.set(name, { format, where: `${file} localEnv.${key}` });
        else if (earlier.format !== format)
          problems.push(
            `${file}: localEnv.${key} names secret ${name} as ${format}, but ${earlier.where} as ${earlier.format}`,
          );
      }
    }
  }

  const cycle = findDependencyCycle(entries.map((entry) => entry.manifest));
  if (cycle !== undefined) {
    problems.push(
      `${fileOf.get(cycle[0])}: dependency cycle ${cycle.join(' -> ')} (capabilities count as dependencies; a startAfter false call may close a loop)`,
    );
  }
  return problems;
}

function describeIssue(file: string, issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? 'top level' : formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${file}: ${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      return issue.input === undefined
        ? `${file}: ${where}: is required (${issue.expected})`
        : `${file}: ${where}: ${issue.message}`;
    case 'invalid_key':
      return `${file}: ${where}: invalid key: ${issue.issues.map((inner) => inner.message).join('; ')}`;
    default:
      return `${file}: ${where}: ${issue.message}`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
