import { CAPABILITIES, CAPABILITY_ENV, type ServiceManifest } from './service-manifest';

/** A connection from one service to another, explicit or implied by a capability. */
export interface ResolvedDependency {
  /** Name of the service called. */
  service: string;
  /** Variable that receives its gRPC address. */
  env: string;
  /** Whether the caller starts only once the callee is SERVING. */
  startAfter: boolean;
  /** `dependency` when listed in `dependencies`, else the capability that implies it. */
  via: 'dependency' | (typeof CAPABILITIES)[number];
}

/** The service that provides `capability`, if any (validateManifests allows at most one). */
export function providerOf(
  manifests: readonly ServiceManifest[],
  capability: (typeof CAPABILITIES)[number],
): ServiceManifest | undefined {
  return manifests.find((manifest) => manifest.provides.includes(capability));
}

/** The service that serves the fully qualified gRPC service `grpcService`, if any. */
export function serverOf(
  manifests: readonly ServiceManifest[],
  grpcService: string,
): ServiceManifest | undefined {
  return manifests.find((manifest) => manifest.grpcServices.includes(grpcService));
}

/**
 * Every service `manifest` calls: its own dependencies, then one per capability provided by another
 * service (a provider does not depend on itself).
 */
export function resolvedDependencies(
  manifest: ServiceManifest,
  manifests: readonly ServiceManifest[],
): ResolvedDependency[] {
  const resolved: ResolvedDependency[] = manifest.dependencies.map((dependency) => ({
    ...dependency,
    via: 'dependency',
  }));
  for (const capability of CAPABILITIES) {
    const provider = providerOf(manifests, capability);
    if (provider === undefined || provider.name === manifest.name) continue;
    resolved.push({
      service: provider.name,
      env: CAPABILITY_ENV[capability],
      startAfter: true,
      via: capability,
    });
  }
  return resolved;
}

/**
 * A cycle of start-order edges (startAfter dependencies and capabilities) as the list of names
 * along it (first name repeated at the end), or undefined: the start waves and compose's
 * depends_on need those to form a DAG. A startAfter false dependency imposes no order (its caller
 * copes with the callee being down), so it may close a loop: the service center calls resource
 * aggregation and compute selection for orders, and both start after it (it provides the JWKS).
 * Dependencies on unknown services or on the service itself are ignored here; validateManifests
 * reports those on their own.
 */
export function findDependencyCycle(manifests: readonly ServiceManifest[]): string[] | undefined {
  const byName = new Map(manifests.map((manifest) => [manifest.name, manifest]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];

  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    const manifest = byName.get(name);
    if (manifest === undefined) return undefined;
    state.set(name, 'visiting');
    path.push(name);
    for (const dependency of resolvedDependencies(manifest, manifests)) {
      if (dependency.service === name || !dependency.startAfter) continue;
      const cycle = visit(dependency.service);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };

  for (const manifest of [...manifests].sort(byNameOrder)) {
    const cycle = visit(manifest.name);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/**
 * Start waves: every service in a wave starts after all services of the earlier waves it must
 * wait for (startAfter dependencies and capability providers) are SERVING. A service's wave is one
 * past the latest wave among those it waits for; names are sorted within a wave.
 */
export function startWaves(manifests: readonly ServiceManifest[]): string[][] {
  const byName = new Map(manifests.map((manifest) => [manifest.name, manifest]));
  const waveOf = new Map<string, number>();

  // Depth-bounded by the number of services, so a cycle that slipped past validation fails loudly
  // instead of recursing forever.
  const wave = (name: string, depth: number): number => {
    const known = waveOf.get(name);
    if (known !== undefined) return known;
    if (depth > manifests.length) throw new Error(`start order of ${name} has a cycle`);
    const manifest = byName.get(name);
    if (manifest === undefined) throw new Error(`unknown service ${name}`);
    const waits = resolvedDependencies(manifest, manifests).filter((d) => d.startAfter);
    const result = Math.max(-1, ...waits.map((d) => wave(d.service, depth + 1))) + 1;
    waveOf.set(name, result);
    return result;
  };

  const waves: string[][] = [];
  for (const manifest of [...manifests].sort(byNameOrder)) {
    const index = wave(manifest.name, 0);
    for (let i = waves.length; i <= index; i += 1) waves.push([]);
    waves[index].push(manifest.name);
  }
  return waves;
}

function byNameOrder(a: ServiceManifest, b: ServiceManifest): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
