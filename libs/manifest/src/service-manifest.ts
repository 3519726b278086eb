import { z } from 'zod/v4';

/**
 * The schema of `services/<name>/service.json`: what the node's topology tools (npm start, the e2e
 * launcher, the agreement tests over compose and the chart) know about a service. Field rules that
 * span several files (unique ports, dependencies that exist, no cycles) are checked by
 * validateManifests; docs/service-manifest.md describes every field.
 *
 * zod/v4 rather than the zod 3 API the services use: it generates the JSON Schema editors read
 * (service-manifest.schema.json) from this one definition, so the two cannot drift apart.
 */

/** What a service can provide to every other service of the node. */
export const CAPABILITIES = ['jwks'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * The variable through which every other service receives a capability provider's gRPC address.
 * jwks: the JWKS of participant tokens (the service center); the others verify tokens with it, so
 * they also start after it.
 */
export const CAPABILITY_ENV: Readonly<Record<Capability, string>> = {
  jwks: 'AUTH_JWKS_ADDRESS',
};

/** Formats of local secrets a `localEnv` value may name: `${secret:<name>:<format>}`. */
export const SECRET_FORMATS = ['base64-32', 'api-key'] as const;
export type SecretFormat = (typeof SECRET_FORMATS)[number];

/**
 * Variables the runner of a service sets from its own knowledge (infrastructure, keys, the
 * manifest's ports); a manifest's `localEnv` and dependency `env` may not name them, so the
 * manifest cannot silently contradict the runner.
 */
export const RUNNER_ENV = [
  'NODE_ENV',
  'GRPC_HOST',
  'GRPC_PORT',
  'METRICS_PORT',
  'DATABASE_URL',
  'NATS_URL',
  'LOG_LEVEL',
  'GRPC_REFLECTION',
  'AUTH_JWT_PUBLIC_KEYS',
  'AUTH_SERVICE_SIGNING_KEY',
  'OTEL_SERVICE_NAME',
] as const;

const SERVICE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
// The rule ensureDatabase in @cinode/local-infra enforces: an unquoted Postgres identifier.
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
// libs/events: stream names are short, without dots, spaces or wildcards.
const STREAM_NAME = /^[A-Z][A-Z0-9_]{0,31}$/;
// buf style: cinode.<domain>.v<major>.<Name>Service
const GRPC_SERVICE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.v[0-9]+\.[A-Z][A-Za-z0-9]*Service$/;
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const VALUES_KEY = /^[a-z][A-Za-z0-9]*$/;
const SECRET_TEMPLATE_SOURCE = `\\$\\{secret:([a-z0-9][a-z0-9-]*):(${SECRET_FORMATS.join('|')})\\}`;
/** A value whose every `${` opens a well-formed secret reference. */
const LOCAL_ENV_VALUE = new RegExp(`^(?:[^$]|\\$(?!\\{)|${SECRET_TEMPLATE_SOURCE})*$`);

const serviceName = z.string().regex(SERVICE_NAME, {
  error: 'must be kebab-case: lowercase letters, digits and single dashes',
});
const port = z
  .number()
  .int({ error: 'must be an integer' })
  .min(1024, { error: 'must be at least 1024 (no privileged ports)' })
  .max(65535, { error: 'must be at most 65535' });
const envName = z
  .string()
  .regex(ENV_NAME, { error: 'must be an upper-case environment variable name' });
const streamName = z.string().regex(STREAM_NAME, {
  error: 'must be an upper-case JetStream stream name without dots (at most 32 characters)',
});

export const dependencySchema = z
  .strictObject({
    service: serviceName.describe('Name of the service this one calls (its directory name).'),
    env: envName.describe(
      'Variable that receives the dependency\'s gRPC address ("host:port") in every deployment.',
    ),
    startAfter: z
      .boolean()
      .describe(
        'true: start only once the dependency is SERVING (it is needed at start-up); false: the service copes with it being down (retries, outbox).',
      ),
  })
  .describe('Another service of the node this one calls over gRPC.');

export const serviceManifestSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path of this JSON Schema, for editors.'),
    name: serviceName.describe(
      'The service name: its directory under services/, OTEL_SERVICE_NAME, compose service and chart component name.',
    ),
    description: z
      .string()
      .min(1, { error: 'must not be empty' })
      .describe('What the service does, in a sentence or two.'),
    grpcPort: port.describe('gRPC port (GRPC_PORT) in npm start, compose and the chart defaults.'),
    metricsPort: port.describe('Prometheus /metrics port (METRICS_PORT).'),
    grpcServices: z
      .array(
        z.string().regex(GRPC_SERVICE, {
          error:
            'must be a fully qualified gRPC service name such as cinode.<domain>.v1.<Name>Service',
        }),
      )
      .min(1, { error: 'must list at least one gRPC service' })
      .describe(
        'Fully qualified gRPC services this process serves (besides health and reflection).',
      ),
    database: z
      .string()
      .regex(DATABASE_NAME, {
        error: 'must be a lowercase Postgres identifier: letters, digits and _ (at most 63)',
      })
      .describe("Name of the database the service owns on the node's Postgres server."),
    events: z
      .strictObject({
        owns: z
          .array(streamName)
          .describe('JetStream streams this service declares and publishes to.'),
        consumes: z
          .array(streamName)
          .describe('Streams of other services this one consumes (each owned by some service).'),
      })
      .describe('NATS JetStream streams this service owns and consumes.'),
    provides: z
      .array(z.enum(CAPABILITIES, { error: `must be one of: ${CAPABILITIES.join(', ')}` }))
      .describe(
        'Node-wide capabilities: "jwks" gives every other service AUTH_JWKS_ADDRESS and makes it start after this one.',
      ),
    dependencies: z
      .array(dependencySchema)
      .describe('Services this one calls, and how their addresses reach it.'),
    chart: z
      .strictObject({
        valuesKey: z
          .string()
          .regex(VALUES_KEY, { error: 'must be camelCase' })
          .describe(
            "Key of this service's block in charts/cinode/values.yaml (camelCase of the name).",
          ),
      })
      .describe('Where the Helm chart keeps this service.'),
    localEnv: z
      .record(
        envName,
        z.string().regex(LOCAL_ENV_VALUE, {
          error:
            'may contain ${secret:<name>:base64-32} or ${secret:<name>:api-key} and no other ${...}',
        }),
      )
      .optional()
      .describe(
        'Extra variables for npm start (and, overridable, the e2e launcher). ${secret:<name>:<format>} is replaced by a secret generated once under .data/secrets/<name>.',
      ),
  })
  .describe('A cinode service: what npm start, the e2e launcher, compose and the chart agree on.');

export type ServiceManifest = z.infer<typeof serviceManifestSchema>;
export type ServiceDependency = z.infer<typeof dependencySchema>;

/**
 * Replaces each `${secret:<name>:<format>}` in a localEnv value with resolve(name, format). Values
 * were checked by the schema, so any other text is copied as it is.
 */
export function expandLocalEnvValue(
  value: string,
  resolve: (name: string, format: SecretFormat) => string,
): string {
  return value.replace(
    new RegExp(SECRET_TEMPLATE_SOURCE, 'g'),
    (match: string, name: string, format: string) => {
      if (!isSecretFormat(format)) throw new Error(`unknown secret format in ${match}`);
      return resolve(name, format);
    },
  );
}

/** The secrets a localEnv value names, in order. */
export function secretReferences(value: string): { name: string; format: SecretFormat }[] {
  const references: { name: string; format: SecretFormat }[] = [];
  expandLocalEnvValue(value, (name, format) => {
    references.push({ name, format });
    return '';
  });
  return references;
}

function isSecretFormat(value: string): value is SecretFormat {
  return SECRET_FORMATS.some((format) => format === value);
}
