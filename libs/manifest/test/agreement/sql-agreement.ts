import { manifestPath } from '../../src/load-manifests';
import type { ServiceManifest } from '../../src/service-manifest';

export const INIT_DATABASES_FILE = 'deploy/postgres/init-databases.sql';

/**
 * Where deploy/postgres/init-databases.sql disagrees with the manifests: it must create exactly
 * the manifests' databases, one `CREATE DATABASE <name>;` line each (the compose file's
 * `databases` service reads the same lines with sed).
 */
export function initDatabasesDisagreements(
  manifests: readonly ServiceManifest[],
  sqlText: string,
): string[] {
  const created = new Set(
    [...sqlText.matchAll(/^CREATE DATABASE ([a-z_][a-z0-9_]*);$/gm)].map((match) => match[1]),
  );
  const problems: string[] = [];
  const wanted = new Set(manifests.map((m) => m.database));
  for (const manifest of manifests) {
    if (!created.has(manifest.database))
      problems.push(
        `${INIT_DATABASES_FILE}: no "CREATE DATABASE ${manifest.database};" (${manifestPath(manifest.name)} database)`,
      );
  }
  for (const database of created) {
    if (!wanted.has(database))
      problems.push(`${INIT_DATABASES_FILE}: creates ${database}, which no service.json names`);
  }
  return problems;
}
