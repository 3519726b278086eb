import manifest from '../service.json';
import {
  baseServiceSchema,
  clientTlsProblems,
  clientTlsShape,
  envInt,
  envOptional,
  eventsConfigShape,
  loadConfig,
  type ConfigProblem,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { NATIONAL_NODE_AUDIENCE } from '@cinode/auth';
import { z } from 'zod';

export const SERVICE_NAME = manifest.name;

const schema = baseServiceSchema.extend({
  ...eventsConfigShape,
  ...serviceAddressShape(manifest),
  /** host:port of the national node (the national-node-mock in development). */
  NATIONAL_NODE_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each call to the national node. Must stay well under the consumer's ack wait. */
  NATIONAL_NODE_TIMEOUT_MS: envInt(10_000, 100, 25_000),
  /**
   * How long ResolveIdentifier may answer from memory (0: never). Entries are dropped the moment
   * their identifier changes (a trigger NOTIFYs every change); this bounds a stalled notification.
   */
  RESOLVE_CACHE_MS: envInt(2_000, 0, 60_000),
  /**
   * The audience of the service tokens sent to the national node. It must differ from the node's
   * own AUTH_JWT_AUDIENCE: a token the national node received is then refused by every node service.
   */
  NATIONAL_NODE_AUDIENCE: z.string().min(1).default(NATIONAL_NODE_AUDIENCE),
  /**
   * How the national node is called (NATIONAL_NODE_TLS, _CA_FILE, _CERT_FILE, _KEY_FILE). All unset:
   * as the node's own services (GRPC_CLIENT_TLS_*), which suits the mock inside the node; the real
   * national node, outside it, has a CA and a client certificate of its own.
   */
  ...clientTlsShape('NATIONAL_NODE'),
  /** Stable installation key the node registers with; never change it after the first start. */
  NODE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, "must be 1 to 128 letters, digits, '.', '_' or '-'")
    .default('cinode-dev-node'),
  NODE_NAME: z.string().min(1).max(200).default('cinode development node'),
  NODE_TYPE: z.enum(['regional', 'industry']).default('regional'),
  NODE_REGION_CODE: z
    .string()
    .regex(/^\d{6}$/, 'must be a six-digit GB/T 2260 division code')
    .default('310000'),
  NODE_OPERATOR_NAME: z.string().min(1).max(200).default('cinode development operator'),
  /** For a node registered already: its code ("R0001") and identifier prefix ("CN.R0001"); set both or neither. */
  NODE_CODE: envOptional().pipe(
    z
      .string()
      .regex(/^[RI]\d{4}$/, 'must look like R0001')
      .optional(),
  ),
  IDENTIFIER_PREFIX: envOptional().pipe(
    z
      .string()
      .regex(/^[A-Z]{2,8}\.[RI]\d{4}$/, 'must look like CN.R0001')
      .optional(),
  ),
  /** Delays between node registration attempts while the national node is unreachable. */
  REGISTRATION_RETRY_INITIAL_MS: envInt(1_000, 10, 600_000),
  REGISTRATION_RETRY_MAX_MS: envInt(60_000, 10, 3_600_000),
  /**
   * Nak delays of the filing consumer while the national node is down or slow. Kept apart from the
   * platform's EVENT_RETRY_* (which the participant consumer uses): these pace calls to an outside
   * party through its outages, which an operator may want gentler than retries of a local failure.
   */
  FILING_RETRY_INITIAL_MS: envInt(1_000, 10, 600_000),
  FILING_RETRY_MAX_MS: envInt(60_000, 10, 3_600_000),
});

export type IdentifierConfig = z.infer<typeof schema>;

function rules(config: IdentifierConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = clientTlsProblems(config, 'NATIONAL_NODE');
  if ((config.NODE_CODE === undefined) !== (config.IDENTIFIER_PREFIX === undefined)) {
    problems.push({
      key: 'NODE_CODE',
      problem: 'set NODE_CODE and IDENTIFIER_PREFIX together, or neither',
    });
  } else if (config.NODE_CODE && !config.IDENTIFIER_PREFIX?.endsWith(`.${config.NODE_CODE}`)) {
    problems.push({ key: 'IDENTIFIER_PREFIX', problem: 'must end with "." and NODE_CODE' });
  }
  if (config.NATIONAL_NODE_AUDIENCE === config.AUTH_JWT_AUDIENCE)
    problems.push({
      key: 'NATIONAL_NODE_AUDIENCE',
      problem: 'must differ from AUTH_JWT_AUDIENCE (tokens for the national node would work here)',
    });
  const ranges = [
    ['REGISTRATION_RETRY_INITIAL_MS', 'REGISTRATION_RETRY_MAX_MS'],
    ['FILING_RETRY_INITIAL_MS', 'FILING_RETRY_MAX_MS'],
  ] as const;
  for (const [initial, max] of ranges) {
    if (config[max] < config[initial])
      problems.push({ key: max, problem: `must not be below ${initial}` });
  }
  return problems;
}

export const identifierConfig: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  rules,
};

/** Validates the environment; throws ConfigError listing every bad key, cross-key rules included. */
export function loadIdentifierConfig(env: NodeJS.ProcessEnv = process.env): IdentifierConfig {
  return loadConfig(identifierConfig, env);
}
