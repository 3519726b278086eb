import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: { key: string; problem: string }[],
  ) {
    super(
      `${service}: invalid configuration:\n` +
        problems.map((p) => `  ${p.key}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Boolean env var ("true"/"false"/"1"/"0"/"yes"/"no") with a default. */
export const envBoolean = (defaultValue: boolean) =>
  booleanString.optional().transform((v) => v ?? defaultValue);

/** Integer env var within a range, with a default. */
export const envInt = (defaultValue: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(defaultValue);

/** Optional non-empty string: an empty variable counts as unset. */
export const envOptional = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));

/** Postgres URL. */
export const envPostgresUrl = () =>
  z
    .string({ required_error: 'is required' })
    .url()
    .refine((v) => /^postgres(ql)?:/.test(v), 'must be a postgres:// URL');

/** Settings every cinode service shares; services extend this with their own keys. */
export const baseServiceSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: envInt(50051, 1, 65535),
  /** 0 disables the Prometheus endpoint. */
  METRICS_PORT: envInt(9464, 0, 65535),
  GRPC_REFLECTION: envBoolean(true),
  GRPC_MAX_MESSAGE_BYTES: envInt(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  /** Deadline applied to calls that arrive without one. */
  GRPC_DEFAULT_DEADLINE_MS: envInt(30_000, 100, 600_000),
  /** Longest deadline honoured; longer ones are cut to this. */
  GRPC_MAX_DEADLINE_MS: envInt(120_000, 100, 3_600_000),
  GRPC_KEEPALIVE_TIME_MS: envInt(60_000, 1_000, 3_600_000),
  GRPC_KEEPALIVE_TIMEOUT_MS: envInt(20_000, 1_000, 600_000),
  GRPC_TLS_CERT_FILE: envOptional(),
  GRPC_TLS_KEY_FILE: envOptional(),
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  GRPC_TLS_CA_FILE: envOptional(),
  SHUTDOWN_GRACE_MS: envInt(10_000, 0, 120_000),
  DATABASE_URL: envPostgresUrl(),
  /** At least 2: migrations at start-up hold one connection for their lock and use another. */
  DB_POOL_MAX: envInt(10, 2, 200),
  DB_MIGRATE_ON_START: envBoolean(true),
  OTEL_EXPORTER_OTLP_ENDPOINT: envOptional(),
  /** JWKS (JSON) with the Ed25519 public keys that sign caller tokens. */
  AUTH_JWT_PUBLIC_KEYS: z.string({ required_error: 'is required' }).min(2),
  /** The service center's gRPC address, whose signing keys (GetJwks) are trusted too. */
  AUTH_JWKS_ADDRESS: envOptional(),
  /**
   * How long keys fetched from AUTH_JWKS_ADDRESS (the service center: read from its database) stay
   * trusted without a successful refresh; then tokens they signed are refused until one succeeds.
   */
  AUTH_JWKS_MAX_STALE_SECONDS: envInt(600, 30, 86_400),
  /** Private JWK of the node's service key: lets this service call others as role `service`. */
  AUTH_SERVICE_SIGNING_KEY: envOptional(),
  AUTH_JWT_ISSUER: z.string().default('cinode'),
  /** The audience caller tokens must name (exactly this one); `cinode` inside a node. */
  AUTH_JWT_AUDIENCE: z.string().min(1).default('cinode'),
  /** Longest caller-token lifetime (`exp` - `iat`) accepted; older tokens are refused too. */
  AUTH_JWT_MAX_TTL_SECONDS: envInt(3600, 60, 86_400),
  /** Leeway for clocks that disagree when checking `exp`, `iat` and `nbf`. */
  AUTH_JWT_CLOCK_TOLERANCE_SECONDS: envInt(10, 0, 300),
});

export type BaseServiceConfig = z.infer<typeof baseServiceSchema>;

/**
 * A service's default ports, from its manifest (services/<name>/service.json): spread into its
 * schema, so the defaults are written once.
 */
export function serviceAddressShape(manifest: { grpcPort: number; metricsPort: number }) {
  return {
    GRPC_PORT: envInt(manifest.grpcPort, 0, 65535),
    METRICS_PORT: envInt(manifest.metricsPort, 0, 65535),
  };
}

/** Keys of every service that publishes or consumes events; spread into its schema. */
export const eventsConfigShape = {
  NATS_URL: z.string({ required_error: 'is required' }).min(1),
  /** First nak delay of a consumer after a transient failure; doubles up to the maximum. */
  EVENT_RETRY_INITIAL_MS: envInt(1_000, 10, 600_000),
  /** Longest nak delay: retries continue at this pace for as long as the failure lasts. */
  EVENT_RETRY_MAX_MS: envInt(60_000, 10, 3_600_000),
};

export type EventsConfig = z.infer<z.ZodObject<typeof eventsConfigShape>>;

/** A problem with one key, found by a rule that spans keys. */
export interface ConfigProblem {
  key: string;
  problem: string;
}

/** Keys of the base schema that hold secrets. */
export const BASE_SECRET_KEYS = ['DATABASE_URL', 'AUTH_SERVICE_SIGNING_KEY'] as const;

export interface ServiceConfigDefinition<S extends z.AnyZodObject> {
  service: string;
  schema: S;
  /** Keys never to print; DATABASE_URL is always one. */
  secrets?: readonly string[];
  /** Rules that span keys (a zod object schema stays a plain object schema without them). */
  rules?: (config: z.infer<S>) => ConfigProblem[];
}

/** Rules every service's config obeys, whichever of these keys it has. */
function sharedRules(config: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const pairs: [string, string][] = [['EVENT_RETRY_INITIAL_MS', 'EVENT_RETRY_MAX_MS']];
  for (const [low, high] of pairs) {
    const a = config[low];
    const b = config[high];
    if (typeof a === 'number' && typeof b === 'number' && b < a)
      problems.push({ key: high, problem: `must not be below ${low}` });
  }
  return problems;
}

/**
 * Validates the environment against a service's schema. Every bad key is reported at once; the
 * caller (main.ts) prints the error and exits before Nest starts.
 */
export function loadConfig<S extends z.AnyZodObject>(
  definition: ServiceConfigDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = definition.schema.safeParse(env);
  if (!result.success) {
    const hidden = new Set<string>([...BASE_SECRET_KEYS, ...(definition.secrets ?? [])]);
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)';
      let problem = issue.message === 'Required' ? 'is required' : issue.message;
      const raw = env[key];
      if (hidden.has(key) && raw) problem = problem.split(raw).join('[redacted]');
      return { key, problem };
    });
    throw new ConfigError(definition.service, problems);
  }
  const config = result.data as z.infer<S>;
  const problems = [
    ...sharedRules(config as Record<string, unknown>),
    ...(definition.rules?.(config) ?? []),
  ];
  if (problems.length > 0) throw new ConfigError(definition.service, problems);
  return config;
}

/** The config with secrets replaced, safe to log. */
export function redactConfig<T extends Record<string, unknown>>(
  config: T,
  secrets: readonly string[],
): Record<string, unknown> {
  const hidden = new Set<string>([...BASE_SECRET_KEYS, ...secrets]);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] =
      hidden.has(key) || /SECRET|PASSWORD|PRIVATE|TOKEN/i.test(key)
        ? value === undefined
          ? undefined
          : '[redacted]'
        : value;
  }
  return out;
}
