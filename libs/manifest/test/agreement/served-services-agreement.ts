import { manifestPath } from '../../src/load-manifests';
import type { ServiceManifest } from '../../src/service-manifest';

/** Where a service's code lists the gRPC services it serves (until it reads its manifest). */
export function servedServicesPath(service: string): string {
  return `services/${service}/src/served-services.ts`;
}

/**
 * Where a service's served-services.ts disagrees with its manifest's grpcServices. Only the
 * fully qualified names written in the file as string literals are compared; a file that lists
 * none (because it reads them from the manifest) has nothing to disagree with.
 */
export function servedServicesDisagreements(
  manifest: ServiceManifest,
  sourceText: string,
): string[] {
  const file = servedServicesPath(manifest.name);
  const inCode = [
    ...sourceText.matchAll(/'([a-z][a-z0-9_.]*\.v[0-9]+\.[A-Z][A-Za-z0-9]*Service)'/g),
  ].map((match) => match[1]);
  if (inCode.length === 0) return [];
  const problems: string[] = [];
  for (const name of inCode) {
    if (!manifest.grpcServices.includes(name))
      problems.push(
        `${file}: serves ${name}, which ${manifestPath(manifest.name)} grpcServices lacks`,
      );
  }
  for (const name of manifest.grpcServices) {
    if (!inCode.includes(name))
      problems.push(
        `${manifestPath(manifest.name)}: grpcServices lists ${name}, which ${file} does not serve`,
      );
  }
  return problems;
}
