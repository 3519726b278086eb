// @ts-check
'use strict';

/**
 * The spellings of a service name the generated files use. Pure, so the generator's checks and
 * the test agree on them.
 */

/** What services/<name>/service.json accepts (libs/manifest: SERVICE_NAME). */
const SERVICE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** A buf-lint-clean package segment: lower_snake_case (PACKAGE_LOWER_SNAKE_CASE). */
const PROTO_DOMAIN = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
/**
 * Kubernetes names are at most 63 characters; the chart names a service's migration Job
 * `<release>-cinode-<name>-migration`, so long service names leave too little for the release.
 */
const MAX_NAME_LENGTH = 30;
/**
 * Names the generated files would collide with: compose services and chart template directories
 * of the backing services, and `items`, whose root module would clash with the example feature's.
 */
const RESERVED_NAMES = new Set(['nats', 'postgres', 'postgresql', 'databases', 'items']);

/** @param {string} text kebab- or snake-case */
function words(text) {
  return text.split(/[-_]/).filter((word) => word !== '');
}

/** @param {string} word */
function capitalised(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * @param {string} text
 * @returns {string} e.g. `billing-ledger` -> `BillingLedger`
 */
function pascalCase(text) {
  return words(text).map(capitalised).join('');
}

/**
 * The chart's `cinode.valuesKey` helper (`replace "-" "_" | camelcase | untitle`), as
 * libs/manifest's chart agreement computes it.
 * @param {string} text
 */
function camelCase(text) {
  const pascal = pascalCase(text);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
}

/**
 * Every problem with a requested name and domain, empty when both are usable.
 * @param {string} name
 * @param {string} domain
 * @returns {string[]}
 */
function nameProblems(name, domain) {
  const problems = [];
  if (!SERVICE_NAME.test(name))
    problems.push(
      `--name=${name}: must be kebab-case (lowercase letters, digits and single dashes, starting with a letter)`,
    );
  if (name.length > MAX_NAME_LENGTH)
    problems.push(
      `--name=${name}: at most ${MAX_NAME_LENGTH} characters (Kubernetes names of the chart's resources)`,
    );
  if (RESERVED_NAMES.has(name) || name.endsWith('-migrate'))
    problems.push(
      `--name=${name}: reserved (backing services, the compose migration services, the example feature)`,
    );
  if (!PROTO_DOMAIN.test(domain))
    problems.push(
      `--domain=${domain}: must be lower_snake_case (the proto package cinode.<domain>.v1)`,
    );
  return problems;
}

/**
 * @typedef {object} ServiceNames
 * @property {string} name          kebab-case: directory, compose and chart component, Nx project
 * @property {string} database      snake_case Postgres database
 * @property {string} valuesKey     camelCase chart values key
 * @property {string} pascal        PascalCase: root module and config type
 * @property {string} camel         camelCase: the ServiceDefinition's and the config's names
 * @property {string} constant      UPPER_SNAKE: the schema constant
 * @property {string} domain        proto package segment
 * @property {string} protoService  e.g. `BillingLedgerService`
 * @property {string} grpcService   e.g. `cinode.billing_ledger.v1.BillingLedgerService`
 * @property {string} protoFile     workspace path of the proto file
 * @property {string} protoImport   import path of its generated TypeScript
 */

/**
 * @param {string} name
 * @param {string | undefined} domain defaults to the name in snake_case
 * @returns {ServiceNames}
 */
function serviceNames(name, domain) {
  const protoDomain = domain ?? name.replace(/-/g, '_');
  const protoService = `${pascalCase(protoDomain)}Service`;
  return {
    name,
    database: name.replace(/-/g, '_'),
    valuesKey: camelCase(name),
    pascal: pascalCase(name),
    camel: camelCase(name),
    constant: name.replace(/-/g, '_').toUpperCase(),
    domain: protoDomain,
    protoService,
    grpcService: `cinode.${protoDomain}.v1.${protoService}`,
    protoFile: `proto/cinode/${protoDomain}/v1/${protoDomain}_service.proto`,
    protoImport: `@cinode/proto/gen/cinode/${protoDomain}/v1/${protoDomain}_service`,
  };
}

module.exports = { serviceNames, nameProblems, camelCase, pascalCase, MAX_NAME_LENGTH };
