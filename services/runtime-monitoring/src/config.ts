import manifest from '../service.json';
import {
  baseServiceSchema,
  envInt,
  eventsConfigShape,
  loadConfig,
  type ConfigProblem,
  type ServiceConfigDefinition,
  serviceAddressShape,
} from '@cinode/config';
import { z } from 'zod';
import { alertRuleInputSchema, type AlertRuleInput } from './alerts/alert-rule-input';

export const SERVICE_NAME = manifest.name;

/** `name=http://host:port/metrics` pairs, comma-separated; names are kebab-case service names. */
const scrapeTargets = z
  .string()
  .default('')
  .transform((raw, ctx): ScrapeTarget[] => {
    const targets: ScrapeTarget[] = [];
    for (const item of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = item.indexOf('=');
      const service = item.slice(0, at);
      const url = item.slice(at + 1);
      if (at <= 0 || !/^[a-z][a-z0-9-]{0,63}$/.test(service) || !/^https?:\/\/\S+$/.test(url)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `"${item.slice(0, 100)}" is not service=http(s)://host:port/path`,
        });
        return z.NEVER;
      }
      if (targets.some((t) => t.service === service)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${service} is listed twice` });
        return z.NEVER;
      }
      targets.push({ service, url });
    }
    return targets;
  });

export interface ScrapeTarget {
  service: string;
  url: string;
}

/** JSON array of alert rules in an environment variable, each checked like PutAlertRule's. */
const alertRules = z
  .string()
  .default('[]')
  .transform((raw, ctx): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(alertRuleInputSchema).max(200));

const schema = baseServiceSchema.extend({
  ...eventsConfigShape,
  ...serviceAddressShape(manifest),
  /**
   * The node services' Prometheus endpoints, `service=url,...`: their API calls, errors and latency
   * (grpc_server_handled_total, grpc_server_handling_seconds) and whether they answer (availability).
   * Empty: no platform API metrics.
   */
  SCRAPE_TARGETS: scrapeTargets,
  /** How often the endpoints are read (by one replica at a time). */
  SCRAPE_INTERVAL_MS: envInt(15_000, 100, 600_000),
  /** Deadline of one scrape. */
  SCRAPE_TIMEOUT_MS: envInt(5_000, 100, 60_000),
  /** How often levels (pools by state, capacity, utilisation, participants) are sampled. */
  SAMPLE_INTERVAL_MS: envInt(15_000, 100, 600_000),
  /** How often collected observations are folded into the one-minute series and roll-ups. */
  ROLLUP_INTERVAL_MS: envInt(5_000, 100, 600_000),
  /** How often the alert rules are evaluated. */
  ALERT_EVAL_INTERVAL_MS: envInt(30_000, 100, 600_000),
  /** How often an open WatchFeed looks for new entries when no notification woke it. */
  FEED_POLL_MS: envInt(500, 20, 10_000),
  /** Retention of one-minute points, in days. */
  MINUTE_RETENTION_DAYS: envInt(7, 1, 366),
  /** Retention of hourly roll-ups, in days. */
  HOUR_RETENTION_DAYS: envInt(90, 1, 3_660),
  /** Retention of daily roll-ups, in days. */
  DAY_RETENTION_DAYS: envInt(1_100, 1, 36_600),
  /** Retention of feed entries (events and alerts), in days. */
  FEED_RETENTION_DAYS: envInt(90, 1, 3_660),
  /**
   * Alert rules created at start when no rule of that id exists (operators change them later with
   * PutAlertRule), as a JSON array of {rule_id, domain, metric, region_code?, accelerator?,
   * service?, comparison: "above"|"below", threshold, for_minutes, severity, description?}.
   */
  ALERT_RULES_JSON: alertRules,
});

export type RuntimeMonitoringConfig = z.infer<typeof schema>;
export type ConfiguredAlertRule = AlertRuleInput;

function rules(config: RuntimeMonitoringConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.HOUR_RETENTION_DAYS < config.MINUTE_RETENTION_DAYS)
    problems.push({
      key: 'HOUR_RETENTION_DAYS',
      problem: 'must not be below MINUTE_RETENTION_DAYS',
    });
  if (config.DAY_RETENTION_DAYS < config.HOUR_RETENTION_DAYS)
    problems.push({ key: 'DAY_RETENTION_DAYS', problem: 'must not be below HOUR_RETENTION_DAYS' });
  const ids = config.ALERT_RULES_JSON.map((r) => r.rule_id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined)
    problems.push({ key: 'ALERT_RULES_JSON', problem: `rule ${repeated} is listed twice` });
  return problems;
}

export const runtimeMonitoringConfigDefinition: ServiceConfigDefinition<typeof schema> = {
  service: SERVICE_NAME,
  schema,
  secrets: [],
  rules,
};

/** Validates the environment; throws a ConfigError listing every bad key. */
export function loadRuntimeMonitoringConfig(
  env: NodeJS.ProcessEnv = process.env,
): RuntimeMonitoringConfig {
  return loadConfig(runtimeMonitoringConfigDefinition, env);
}
