import manifest from '../service.json';
import { ENCRYPTION_KEY_TEXT_PROBLEM, isEncryptionKeyText } from '@cinode/common';
import {
  baseServiceSchema,
  clientTlsProblems,
  clientTlsShape,
  envBoolean,
  envInt,
  envOptional,
  loadConfig,
  type ConfigProblem,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { NATIONAL_NODE_AUDIENCE } from '@cinode/auth';
import { baseInformationSchema, parseReportWindow, type ReportWindow } from '@cinode/contracts';
import { z } from 'zod';

export const SERVICE_NAME = manifest.name;

/** JSON in an environment variable, parsed, then checked against a schema (issues name the path). */
function envJson<T extends z.ZodTypeAny>(schema: T) {
  return z
    .string({ required_error: 'is required' })
    .transform((raw, ctx): unknown => {
      try {
        return JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const schema = baseServiceSchema.extend({
  ...serviceAddressShape(manifest),
  /** host:port of the national node (the national-node-mock in development). */
  NATIONAL_NODE_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each call to the national node. */
  NATIONAL_NODE_TIMEOUT_MS: envInt(10_000, 100, 60_000),
  /** Audience of the service tokens sent to the national node; must differ from AUTH_JWT_AUDIENCE. */
  NATIONAL_NODE_AUDIENCE: z.string().min(1).default(NATIONAL_NODE_AUDIENCE),
  /** How the national node is called (NATIONAL_NODE_TLS*); unset: as the node's own services. */
  ...clientTlsShape('NATIONAL_NODE'),
  /** host:port of resource aggregation, whose GetComputeMap gives the compute information. */
  RESOURCE_AGGREGATION_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each GetComputeMap call. */
  RESOURCE_AGGREGATION_TIMEOUT_MS: envInt(10_000, 100, 60_000),
  /** host:port of the security service, whose ListAttackEvents gives the security information. */
  SECURITY_ADDRESS: z.string({ required_error: 'is required' }).min(1),
  /** Deadline of each ListAttackEvents call. */
  SECURITY_TIMEOUT_MS: envInt(10_000, 100, 60_000),
  /**
   * The node's registration with the national node. The same values as the identifier service's
   * (RegisterNode is idempotent on NODE_KEY with the same type and region): reporting learns its
   * node code from it and registers its report-signing key for that code.
   */
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
  /**
   * Base information of the daily report (seed 004 基地基本信息), as JSON with the fields of
   * @cinode/contracts baseInformationSchema (docs in services/reporting/README.md). Required: only
   * the operator knows it. Every bad field is named (REPORT_BASE_INFO_JSON.contact_person.email).
   */
  REPORT_BASE_INFO_JSON: envJson(baseInformationSchema),
  /**
   * The daily window, "HH:MM-HH:MM" China Standard Time. The national node scores 07:00-08:00,
   * 12:00-13:00 and 19:00-20:00; another window is for tests.
   */
  REPORT_WINDOW: z
    .string()
    .default('07:00-08:00')
    .transform((value, ctx): ReportWindow => {
      const window = parseReportWindow(value);
      if (typeof window === 'string') {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: window });
        return z.NEVER;
      }
      return window;
    }),
  /**
   * When the configured window closes without a report (the service was down, or building failed
   * throughout), build the day's report in the national windows later that day: the seed asks for
   * one report a day in any of them. Off: only the configured window, and its close is a gap.
   */
  REPORT_CATCH_UP_WINDOWS: envBoolean(true),
  /** How often the scheduler looks whether the day's report is due or its window was missed. */
  REPORT_SCHEDULE_INTERVAL_MS: envInt(30_000, 100, 600_000),
  /**
   * How many days back every day is checked for an entry (report or gap) each round; a day with
   * none whose windows have closed becomes a gap. Days older than that are recorded too when the
   * node was down across them: from the day after the last entry before the lookback (see
   * planDaily), so a missed window is never silence.
   */
  REPORT_GAP_LOOKBACK_DAYS: envInt(7, 0, 366),
  /**
   * How often the national node is asked for special report requests (特殊时间报送). A request is
   * due a minute after it is issued: this plus building and delivery must stay well under that.
   */
  SPECIAL_REQUEST_POLL_MS: envInt(5_000, 100, 30_000),
  /** How often the sender looks for reports due for delivery. */
  DELIVERY_POLL_MS: envInt(1_000, 10, 60_000),
  /** Reports one sender round claims at most. */
  DELIVERY_BATCH_SIZE: envInt(100, 1, 500),
  /** Delay after the first failed attempt; doubled per attempt (with jitter) up to the maximum. */
  DELIVERY_RETRY_INITIAL_MS: envInt(1_000, 10, 600_000),
  DELIVERY_RETRY_MAX_MS: envInt(300_000, 10, 3_600_000),
  /**
   * Base64 of 32 random bytes: the AES-256-GCM key that encrypts the report-signing private key at
   * rest. Required in production; elsewhere a fixed development key is used, with a warning.
   */
  REPORT_KEY_ENCRYPTION_KEY: envOptional().refine(
    (v) => v === undefined || isEncryptionKeyText(v),
    ENCRYPTION_KEY_TEXT_PROBLEM,
  ),
});

export type ReportingConfig = z.infer<typeof schema>;

export const SECRET_KEYS = ['REPORT_KEY_ENCRYPTION_KEY'] as const;
/**
 * Keys holding personal data: the base information names the responsible and contact persons with
 * their mobile numbers and e-mail addresses. Never logged, like the secrets (the start-up log shows
 * "[redacted]"; a bad field is still named by its path).
 */
export const PERSONAL_DATA_KEYS = ['REPORT_BASE_INFO_JSON'] as const;

function rules(config: ReportingConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = clientTlsProblems(config, 'NATIONAL_NODE');
  if (config.NATIONAL_NODE_AUDIENCE === config.AUTH_JWT_AUDIENCE)
    problems.push({
      key: 'NATIONAL_NODE_AUDIENCE',
      problem: 'must differ from AUTH_JWT_AUDIENCE (tokens for the national node would work here)',
    });
  if (config.DELIVERY_RETRY_MAX_MS < config.DELIVERY_RETRY_INITIAL_MS)
    problems.push({
      key: 'DELIVERY_RETRY_MAX_MS',
      problem: 'must not be below DELIVERY_RETRY_INITIAL_MS',
    });
  if (config.NODE_ENV === 'production' && config.REPORT_KEY_ENCRYPTION_KEY === undefined)
    problems.push({ key: 'REPORT_KEY_ENCRYPTION_KEY', problem: 'is required in production' });
  return problems;
}

export const reportingConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  secrets: [...SECRET_KEYS, ...PERSONAL_DATA_KEYS],
  rules,
};

/** Validates the environment; throws a ConfigError listing every bad key. */
export function loadReportingConfig(env: NodeJS.ProcessEnv = process.env): ReportingConfig {
  return loadConfig(reportingConfigDefinition, env);
}

/**
 * Encrypts the signing key at rest. Development (no REPORT_KEY_ENCRYPTION_KEY outside production)
 * uses a fixed key that protects nothing, and says so in the log.
 */
const DEVELOPMENT_ENCRYPTION_KEY = Buffer.alloc(32, 'cinode-reporting-development-key');

export function encryptionKeyOf(config: ReportingConfig): { key: Buffer; development: boolean } {
  if (config.REPORT_KEY_ENCRYPTION_KEY === undefined)
    return { key: DEVELOPMENT_ENCRYPTION_KEY, development: true };
  return { key: Buffer.from(config.REPORT_KEY_ENCRYPTION_KEY, 'base64'), development: false };
}
