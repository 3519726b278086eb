import { accessSync, constants, statSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
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

/**
 * `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`, `::1`: the addresses and ranges of a list setting as a
 * BlockList, and the entries that are none.
 */
export function parseCidrs(entries: readonly string[]): { list: BlockList; invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address, prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (
      family === 0 ||
      extra !== undefined ||
      (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
      prefix > max
    ) {
      invalid.push(entry);
      continue;
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { list, invalid };
}

/** Comma-separated addresses and CIDR ranges (v4, v6); empty by default; a bad entry is named. */
export const envCidrList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== ''),
    )
    .superRefine((entries, ctx) => {
      const { invalid } = parseCidrs(entries);
      if (invalid.length > 0)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `not an address or CIDR range: ${invalid.join(', ')}`,
        });
    });

/** Optional non-empty string: an empty variable counts as unset. */
export const envOptional = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));

/** Optional boolean env var: unset (or empty) stays undefined, for a default that depends on other keys. */
export const envOptionalBoolean = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((v) =>
      v === undefined || v === '' ? undefined : v === 'true' || v === '1' || v === 'yes',
    );

/**
 * Optional path of a file the process must be able to read (a certificate, a key). Checked when the
 * config loads, so a missing or unreadable file stops the start with its variable named.
 */
export const envFile = () =>
  envOptional().superRefine((path, ctx) => {
    if (path === undefined) return;
    const problem = unreadableFile(path);
    if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });

function unreadableFile(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `cannot read ${path}${code ? ` (${code})` : ''}`;
  }
}

type ClientTlsFileKey<P extends string> =
  | `${P}_TLS_CA_FILE`
  | `${P}_TLS_CERT_FILE`
  | `${P}_TLS_KEY_FILE`;

/** The keys of one client TLS group, e.g. GRPC_CLIENT_TLS, GRPC_CLIENT_TLS_CA_FILE, ..._CERT_FILE, ..._KEY_FILE. */
export type ClientTlsShape<P extends string> = Record<
  `${P}_TLS`,
  ReturnType<typeof envOptionalBoolean>
> &
  Record<ClientTlsFileKey<P>, ReturnType<typeof envFile>>;

/**
 * How this service calls a peer: `<P>_TLS` (true/false; unset: on when any of the files is set),
 * `<P>_TLS_CA_FILE` (the CA that verifies the peer; unset: the system's CAs), and
 * `<P>_TLS_CERT_FILE` with `<P>_TLS_KEY_FILE` (the certificate this service presents: mTLS).
 * Spread into a schema; `GRPC_CLIENT` is the base schema's group for the node's own services.
 */
export function clientTlsShape<P extends string>(prefix: P): ClientTlsShape<P> {
  return {
    [`${prefix}_TLS`]: envOptionalBoolean(),
    [`${prefix}_TLS_CA_FILE`]: envFile(),
    [`${prefix}_TLS_CERT_FILE`]: envFile(),
    [`${prefix}_TLS_KEY_FILE`]: envFile(),
  } as ClientTlsShape<P>;
}

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
  /**
   * Event-loop lag above which new calls are shed with RESOURCE_EXHAUSTED (a growing share, all
   * of them at twice this); 0 sheds none for lag. Calls past their deadline never run.
   */
  GRPC_SHED_LAG_MS: envInt(250, 0, 60_000),
  /**
   * Refusals of unauthenticated calls to audited RPCs recorded one by one per address and minute;
   * past it they are counted and summarised (cinode_audit_unauthenticated_suppressed_total). 0
   * records every one.
   */
  AUDIT_UNAUTHENTICATED_PER_MINUTE: envInt(120, 0, 1_000_000),
  /**
   * Refusals of one participant before its calls run, for volume (over its rate, quarantined, the
   * quarantine list unread), recorded one by one per reason and minute on each replica; past it
   * they are counted and summarised (cinode_audit_participant_refusals_suppressed_total). Its
   * other refusals, and every call that ran, are always recorded. 0 records every one.
   */
  AUDIT_CALLER_REFUSALS_PER_MINUTE: envInt(60, 0, 1_000_000),
  /**
   * Participants' calls while a service has not read the quarantine list once (NATS away at its
   * start): `refuse` (UNAVAILABLE QUARANTINE_LIST_UNREAD, retryable) or `serve`.
   */
  GRPC_QUARANTINE_UNREAD: z.enum(['refuse', 'serve']).default('refuse'),
  /** Addresses and CIDR ranges whose calls this service refuses (PERMISSION_DENIED ADDRESS_DENIED). */
  GRPC_DENY_CIDRS: envCidrList(),
  /** When set, the only addresses and ranges served; health checks are always answered. */
  GRPC_ALLOW_CIDRS: envCidrList(),
  /** Calls per second one participant (tenant) may make to this replica; 0: no limit. */
  GRPC_PARTICIPANT_RATE_LIMIT: envInt(200, 0, 1_000_000),
  /** Calls a participant may make at once above its rate. */
  GRPC_PARTICIPANT_BURST: envInt(400, 1, 10_000_000),
  /**
   * Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS): a client
   * with more waits in its own queue until one ends. It bounds what a burst of connections can put
   * before the service in one turn of its event loop, which is what keeps load shedding ahead of an
   * overload (bench/README.md, overload). Long-lived streams count too (a provider agent holds one
   * while it registers pools), hence at least 16. The node's own clients of a busy peer spread
   * their calls over several connections (PEER_CONNECTIONS in @cinode/grpc).
   */
  GRPC_MAX_CONCURRENT_STREAMS: envInt(64, 16, 1_000_000),
  GRPC_KEEPALIVE_TIME_MS: envInt(60_000, 1_000, 3_600_000),
  GRPC_KEEPALIVE_TIMEOUT_MS: envInt(20_000, 1_000, 600_000),
  GRPC_TLS_CERT_FILE: envFile(),
  GRPC_TLS_KEY_FILE: envFile(),
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  GRPC_TLS_CA_FILE: envFile(),
  /**
   * Calls to the node's other services (and the service center's JWKS). TLS by default when this
   * service serves TLS: a node never falls back to plaintext unless GRPC_CLIENT_TLS=false says so.
   */
  ...clientTlsShape('GRPC_CLIENT'),
  /**
   * After turning NOT_SERVING, how long the service goes on accepting calls before it closes its
   * listener, so load balancers and readiness probes see it leave first (the chart sets 5 s).
   */
  SHUTDOWN_DRAIN_DELAY_MS: envInt(0, 0, 60_000),
  /** Then how long calls in flight may take to finish before they are cut off. */
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

const DAY_MS = 24 * 3600 * 1000;

/** Keys of every service that publishes or consumes events; spread into its schema. */
export const eventsConfigShape = {
  NATS_URL: z.string({ required_error: 'is required' }).min(1),
  /** First nak delay of a consumer after a transient failure; doubles up to the maximum. */
  EVENT_RETRY_INITIAL_MS: envInt(1_000, 10, 600_000),
  /** Longest nak delay: retries continue at this pace for as long as the failure lasts. */
  EVENT_RETRY_MAX_MS: envInt(60_000, 10, 3_600_000),
  /**
   * Copies JetStream keeps of the streams this service creates (3 on a clustered NATS). A stream
   * an operator scaled above this is never scaled back down.
   */
  EVENT_STREAM_REPLICAS: envInt(1, 1, 5),
  /**
   * How long a consumer remembers an event it handled, to skip its redeliveries and replays. At
   * least 31 days: longer than the dead-letter stream keeps a message (30 days), so a replay never
   * reaches a consumer that has forgotten it handled the event.
   */
  PROCESSED_EVENT_RETENTION_MS: envInt(35 * DAY_MS, 31 * DAY_MS, 3_650 * DAY_MS),
  /**
   * Attempts to publish one outbox row that fail while NATS otherwise works, before the row is
   * parked (set aside, counted in cinode_outbox_parked, listed and requeued with `npm run outbox`).
   */
  OUTBOX_MAX_ATTEMPTS: envInt(20, 1, 1_000_000),
  /** Outbox rows one relay round claims, publishes and marks together. */
  OUTBOX_BATCH_SIZE: envInt(500, 1, 10_000),
  /**
   * Relay rounds in flight at once: the next round is published while earlier ones wait for
   * JetStream's acks (each holds a database connection until it commits, so keep it below
   * DB_POOL_MAX).
   */
  OUTBOX_CONCURRENCY: envInt(4, 1, 32),
  /**
   * Hours a published outbox row is kept for inspection before the relay deletes it (hourly, in
   * batches, beside its rounds). The streams and the consumers keep their own history; this is the
   * producer's record of what it published. A busy resource aggregation writes about a quarter of
   * a megabyte of event data per 200 pools reported, so its disk sets the bound.
   */
  OUTBOX_RETENTION_HOURS: envInt(168, 1, 87_600),
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
  const problems: ConfigProblem[] = [
    ...serverTlsProblems(config),
    ...clientTlsProblems(config, 'GRPC_CLIENT'),
  ];
  const pairs: [string, string][] = [['EVENT_RETRY_INITIAL_MS', 'EVENT_RETRY_MAX_MS']];
  for (const [low, high] of pairs) {
    const a = config[low];
    const b = config[high];
    if (typeof a === 'number' && typeof b === 'number' && b < a)
      problems.push({ key: high, problem: `must not be below ${low}` });
  }
  // Each relay round in flight holds a connection: leave at least one for the service's calls.
  const { OUTBOX_CONCURRENCY: rounds, DB_POOL_MAX: connections } = config;
  if (typeof rounds === 'number' && typeof connections === 'number' && rounds >= connections)
    problems.push({ key: 'OUTBOX_CONCURRENCY', problem: 'must be below DB_POOL_MAX' });
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

/** The server's TLS files: certificate and key together; a client CA (mTLS) only with them. */
function serverTlsProblems(config: Record<string, unknown>): ConfigProblem[] {
  const cert = config.GRPC_TLS_CERT_FILE !== undefined;
  const key = config.GRPC_TLS_KEY_FILE !== undefined;
  if (cert !== key) {
    return [
      {
        key: cert ? 'GRPC_TLS_KEY_FILE' : 'GRPC_TLS_CERT_FILE',
        problem: 'set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE together',
      },
    ];
  }
  if (config.GRPC_TLS_CA_FILE !== undefined && !cert) {
    return [
      {
        key: 'GRPC_TLS_CA_FILE',
        problem: 'requires TLS: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE as well',
      },
    ];
  }
  return [];
}

/**
 * Rules of one client TLS group (clientTlsShape): the certificate and its key together, and no
 * files with `<P>_TLS=false`. The base group's rules run for every service; a service with a group
 * of its own adds `clientTlsProblems(config, '<P>')` to its rules.
 */
export function clientTlsProblems(
  config: Readonly<Record<string, unknown>>,
  prefix: string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const certKey = `${prefix}_TLS_CERT_FILE`;
  const keyKey = `${prefix}_TLS_KEY_FILE`;
  const cert = config[certKey] !== undefined;
  const key = config[keyKey] !== undefined;
  if (cert !== key) {
    problems.push({
      key: cert ? keyKey : certKey,
      problem: `set ${certKey} and ${keyKey} together`,
    });
  }
  const files = [`${prefix}_TLS_CA_FILE`, certKey, keyKey].filter((k) => config[k] !== undefined);
  if (config[`${prefix}_TLS`] === false && files.length > 0) {
    problems.push({
      key: `${prefix}_TLS`,
      problem: `is false, but ${files.join(', ')} ${files.length === 1 ? 'is' : 'are'} set: unset them or turn TLS on`,
    });
  }
  return problems;
}

/**
 * How a client reaches a peer: plaintext, or TLS verified with `caFile` (without one, the system's
 * CAs), presenting `certFile`/`keyFile` when set (mTLS). Built into grpc-js credentials by
 * `clientCredentials` of `@cinode/grpc`.
 */
export type ClientTransport =
  | { tls: false }
  | { tls: true; caFile?: string; certFile?: string; keyFile?: string };

type ClientTlsValues<P extends string> = Partial<Record<`${P}_TLS`, boolean>> &
  Partial<Record<ClientTlsFileKey<P>, string>>;

interface ClientTlsGroup {
  tls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

function groupOf(config: object, prefix: string): ClientTlsGroup {
  const values = config as Readonly<Record<string, unknown>>;
  const file = (key: string) => {
    const value = values[`${prefix}_TLS_${key}_FILE`];
    return typeof value === 'string' ? value : undefined;
  };
  const flag = values[`${prefix}_TLS`];
  return {
    tls: typeof flag === 'boolean' ? flag : undefined,
    caFile: file('CA'),
    certFile: file('CERT'),
    keyFile: file('KEY'),
  };
}

function transportOf(group: ClientTlsGroup, tlsByDefault: boolean): ClientTransport {
  const anyFile = [group.caFile, group.certFile, group.keyFile].some((f) => f !== undefined);
  if (!(group.tls ?? (anyFile || tlsByDefault))) return { tls: false };
  return { tls: true, caFile: group.caFile, certFile: group.certFile, keyFile: group.keyFile };
}

/**
 * How this service calls the node's other services (GRPC_CLIENT_TLS_*). Plaintext only when
 * GRPC_CLIENT_TLS=false, or when nothing about TLS is configured at all (no client files and a
 * plaintext server): a service that serves TLS calls its peers over TLS.
 */
export function grpcClientTransport(
  config: Pick<BaseServiceConfig, 'GRPC_TLS_CERT_FILE'> & ClientTlsValues<'GRPC_CLIENT'>,
): ClientTransport {
  return transportOf(groupOf(config, 'GRPC_CLIENT'), config.GRPC_TLS_CERT_FILE !== undefined);
}

/** The prefixes of the client TLS groups a config has (clientTlsShape), e.g. NATIONAL_NODE. */
export type ClientTlsPrefix<C> = Exclude<
  { [K in keyof C]: K extends `${infer P}_TLS_CA_FILE` ? P : never }[keyof C],
  'GRPC'
>;

/**
 * How this service calls a peer with a TLS group of its own (`<P>_TLS_*`, e.g. NATIONAL_NODE): that
 * group when any of its keys is set, else the same as the node's own services (GRPC_CLIENT_TLS_*),
 * which suits a peer inside the node such as the national node mock.
 */
export function peerClientTransport<C extends BaseServiceConfig>(
  config: C,
  prefix: ClientTlsPrefix<C>,
): ClientTransport {
  const own = groupOf(config, prefix);
  if (Object.values(own).every((v) => v === undefined)) return grpcClientTransport(config);
  return transportOf(own, false);
}
