import { ALERT_SEVERITIES, MONITORING_DOMAINS } from '@cinode/contracts';
import { z } from 'zod';
import { METRICS, isMetricName } from '../series/metrics';

export const RULE_ID_PATTERN = /^[a-z0-9-]{1,64}$/;

/** An alert rule as the configuration (ALERT_RULES_JSON) writes it. */
export const alertRuleInputSchema = z
  .object({
    rule_id: z.string().regex(RULE_ID_PATTERN, "must be 1 to 64 lower-case letters, digits or '-'"),
    domain: z.enum(MONITORING_DOMAINS),
    metric: z.string().refine(isMetricName, 'is not a metric monitoring keeps'),
    region_code: z.string().max(16).default(''),
    accelerator: z.string().max(64).default(''),
    service: z.string().max(64).default(''),
    comparison: z.enum(['above', 'below']),
    threshold: z.number().finite(),
    for_minutes: z.number().int().min(1).max(1440),
    severity: z.enum(ALERT_SEVERITIES),
    description: z.string().max(500).default(''),
  })
  .strict()
  .refine((rule) => !isMetricName(rule.metric) || METRICS[rule.metric].domain === rule.domain, {
    message: 'metric is not of this domain',
    path: ['metric'],
  });

export type AlertRuleInput = z.infer<typeof alertRuleInputSchema>;

/** A rule as the service keeps it. */
export interface AlertRule {
  ruleId: string;
  domain: string;
  metric: string;
  regionCode: string;
  accelerator: string;
  service: string;
  comparison: 'above' | 'below';
  threshold: number;
  forMinutes: number;
  severity: string;
  description: string;
  updatedAt: Date;
}

export function ruleOfInput(input: AlertRuleInput, updatedAt: Date): AlertRule {
  return {
    ruleId: input.rule_id,
    domain: input.domain,
    metric: input.metric,
    regionCode: input.region_code,
    accelerator: input.accelerator,
    service: input.service,
    comparison: input.comparison,
    threshold: input.threshold,
    forMinutes: input.for_minutes,
    severity: input.severity,
    description: input.description,
    updatedAt,
  };
}
