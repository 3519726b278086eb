import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManifestError, validateManifests, type ManifestSource } from './manifest-validation';
import type { ServiceManifest } from './service-manifest';

/** Where a service's manifest lives, relative to the workspace root. */
export function manifestPath(service: string): string {
  return `services/${service}/service.json`;
}

/**
 * Projects tagged with this run at a provider's site, not in the node (the provider agent): they
 * have no manifest, and npm start runs them on its own terms.
 */
export const PROVIDER_SITE_TAG = 'runs-at:provider';

/** Whether a project.json describes a service of the node (not one tagged PROVIDER_SITE_TAG). */
function isNodeProject(projectFile: string): boolean {
  if (!existsSync(projectFile)) return false;
  const project = JSON.parse(readFileSync(projectFile, 'utf8')) as { tags?: unknown };
  return !(Array.isArray(project.tags) && project.tags.includes(PROVIDER_SITE_TAG));
}

/**
 * Reads and validates every `services/<name>/service.json` under workspaceRoot (see
 * validateManifests). An Nx project under services/ without a manifest is a problem too: it
 * would silently be left out of npm start and the e2e node (unless it runs at a provider's site). Throws a ManifestError listing every
 * problem; returns the manifests sorted by name.
 */
export function loadManifests(workspaceRoot: string): ServiceManifest[] {
  const servicesDir = join(workspaceRoot, 'services');
  if (!existsSync(servicesDir)) return [];
  const sources: ManifestSource[] = [];
  const problems: string[] = [];
  const directories = readdirSync(servicesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const directory of directories) {
    const file = manifestPath(directory);
    const absolute = join(workspaceRoot, file);
    if (existsSync(absolute)) {
      sources.push({ file, directory, text: readFileSync(absolute, 'utf8') });
    } else if (isNodeProject(join(servicesDir, directory, 'project.json'))) {
      problems.push(`${file}: missing (services/${directory} is an Nx project without a manifest)`);
    }
  }
  let manifests: ServiceManifest[] = [];
  try {
    manifests = validateManifests(sources);
  } catch (error: unknown) {
    if (!(error instanceof ManifestError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return manifests;
}
