// @ts-check
'use strict';

/**
 * `npx nx g ./tools/nx-plugin:service --name=<kebab-name> [--domain=<proto_domain>]`: a new
 * service in the shape of the others (docs/adding-a-service.md lists every file). Plain CommonJS,
 * so Nx loads it without a TypeScript transpiler.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { generateFiles, logger } = require('@nx/devkit');
const { nameProblems, serviceNames } = require('./names');
const {
  addChartEntry,
  addComposeServices,
  addDatabase,
  addToE2eProject,
} = require('./workspace-edits');

/**
 * @typedef {object} ServiceGeneratorOptions
 * @property {string} name
 * @property {string} [domain]
 * @property {string} [description]
 * @property {boolean} [skipProtoGenerate]
 */

/**
 * @typedef {object} Manifest
 * @property {string} name
 * @property {number} grpcPort
 * @property {number} metricsPort
 * @property {string[]} grpcServices
 * @property {string} database
 * @property {string[]} provides
 */

/**
 * Every services/<name>/service.json in the tree, as the generator needs them.
 * @param {import('@nx/devkit').Tree} tree
 * @returns {Manifest[]}
 */
function readManifests(tree) {
  return tree
    .children('services')
    .filter((dir) => tree.exists(`services/${dir}/service.json`))
    .map((dir) => {
      const text = tree.read(`services/${dir}/service.json`, 'utf-8') ?? '{}';
      return /** @type {Manifest} */ (JSON.parse(text));
    });
}

/**
 * The next free ports after the highest in use, one for gRPC and one for metrics; every port of
 * every service is unique (libs/manifest).
 * @param {Manifest[]} manifests
 */
function nextPorts(manifests) {
  const used = new Set(manifests.flatMap((m) => [m.grpcPort, m.metricsPort]));
  /** @param {number[]} ports @param {number} fallback */
  const after = (ports, fallback) => {
    let port = ports.length > 0 ? Math.max(...ports) + 1 : fallback;
    while (used.has(port)) port += 1;
    if (port > 65535) throw new Error('no free port above the highest one in use');
    used.add(port);
    return port;
  };
  return {
    grpcPort: after(
      manifests.map((m) => m.grpcPort),
      50061,
    ),
    metricsPort: after(
      manifests.map((m) => m.metricsPort),
      9461,
    ),
  };
}

/**
 * Refuses, listing every reason at once, a name or domain the workspace cannot take.
 * @param {import('@nx/devkit').Tree} tree
 * @param {import('./names').ServiceNames} names
 * @param {Manifest[]} manifests
 */
function assertUsable(tree, names, manifests) {
  const problems = nameProblems(names.name, names.domain);
  if (tree.exists(`services/${names.name}`)) problems.push(`services/${names.name} exists already`);
  if (tree.exists(`proto/cinode/${names.domain}`))
    problems.push(
      `proto/cinode/${names.domain} exists already: pass another --domain for the new service's API`,
    );
  for (const manifest of manifests) {
    if (manifest.database === names.database)
      problems.push(`database ${names.database} belongs to ${manifest.name} already`);
    if (manifest.grpcServices.includes(names.grpcService))
      problems.push(`${names.grpcService} is served by ${manifest.name} already`);
  }
  if (problems.length > 0)
    throw new Error(`cannot generate service ${names.name}:\n  ${problems.join('\n  ')}`);
}

/**
 * Prettier over every file the generator wrote, honouring .prettierignore (the migration keeps
 * TypeORM's layout, as every committed migration does). Nx's formatFiles ignores that file.
 * @param {import('@nx/devkit').Tree} tree
 */
async function formatChanges(tree) {
  const prettier = await import('prettier');
  const ignorePath = join(tree.root, '.prettierignore');
  for (const change of tree.listChanges()) {
    if (change.type === 'DELETE' || change.content === null) continue;
    const filepath = join(tree.root, change.path);
    const config = (await prettier.resolveConfig(filepath)) ?? {};
    const info = await prettier.getFileInfo(filepath, { ignorePath });
    if (info.ignored || info.inferredParser === null) continue;
    tree.write(
      change.path,
      await prettier.format(change.content.toString('utf-8'), { ...config, filepath }),
    );
  }
}

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {ServiceGeneratorOptions} options
 * @returns {Promise<import('@nx/devkit').GeneratorCallback>}
 */
async function serviceGenerator(tree, options) {
  const started = performance.now();
  const names = serviceNames(options.name, options.domain);
  const manifests = readManifests(tree);
  assertUsable(tree, names, manifests);
  const ports = nextPorts(manifests);
  const jwksProvider = manifests.find((m) => m.provides.includes('jwks'))?.name;
  const timestamp = Date.now();
  const description =
    options.description ??
    `The ${names.name} service (generated; describe what it does and for whom).`;

  generateFiles(tree, join(__dirname, 'files'), '.', {
    ...names,
    ...ports,
    description,
    timestamp,
  });
  addChartEntry(tree, names, ports);
  addComposeServices(tree, names, ports, jwksProvider);
  addDatabase(tree, names);
  addToE2eProject(tree, names);
  await formatChanges(tree);

  return () => {
    if (!options.skipProtoGenerate) {
      // The TypeScript types and the reflection descriptor set, from the proto just written.
      execFileSync(process.execPath, [join(tree.root, 'scripts/proto-generate.mjs')], {
        cwd: tree.root,
        stdio: 'inherit',
      });
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    logger.info(
      [
        '',
        `Generated ${names.name} in ${seconds} s:`,
        `  services/${names.name}/   manifest (gRPC ${ports.grpcPort}, metrics ${ports.metricsPort}, database ${names.database}), kit skeleton, example feature src/items/, initial migration, schema test`,
        `  ${names.protoFile}   ${names.grpcService}${options.skipProtoGenerate ? '' : ' (TypeScript types regenerated in libs/proto/src/gen)'}`,
        `  charts/cinode/   values block ${names.valuesKey} (enabled: false), schema, templates/${names.name}/, cinode.components, cinode.env/egress.${names.name}`,
        `  deploy/          compose services ${names.name} and ${names.name}-migrate, CREATE DATABASE ${names.database}`,
        `  e2e/             src/${names.name}.e2e-spec.ts, project.json dependencies`,
        '',
        'Next:',
        `  npx nx run ${names.name}:build`,
        `  npx jest services/${names.name} e2e/src/${names.name}.e2e-spec.ts libs/manifest/test/topology-agreement.spec.ts`,
        `  npm start                       # the node, ${names.name} included`,
        `  define the API in ${names.protoFile}, then npm run proto:generate`,
        '  replace src/items/ with your features; new migrations with libs/database/scripts/db-migration-generate.mjs',
        '  see docs/adding-a-service.md (events, dependencies, chart settings)',
        '',
      ].join('\n'),
    );
  };
}

module.exports = serviceGenerator;
module.exports.default = serviceGenerator;
module.exports.nextPorts = nextPorts;
