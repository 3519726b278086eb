import { z } from 'zod';
import { defineEvent, defineStream, textOf } from './contract';

/** Runtime monitoring's stream: alerts raised and resolved by its rules. */
export const MONITORING_STREAM = defineStream({
  name: 'MONITORING',
  subjects: ['cinode.monitoring.>'],
  owner: 'runtime-monitoring',
  description: 'Alerts raised and resolved by the alert rules of runtime monitoring',
});

export const MONITORING_DOMAINS = ['resource', 'platform', 'scheduling', 'application'] as const;
export type MonitoringDomainName = (typeof MONITORING_DOMAINS)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;

/**
 * An alert as of `version` (1 when raised, 2 when resolved): a rule's condition on one series,
 * named by its metric and dimensions.
 */
export const alertEventData = z.object({
  alertId: z.string().uuid(),
  ruleId: z.string().regex(/^[a-z0-9-]{1,64}$/),
  version: z.number().int().positive().safe(),
  domain: z.enum(MONITORING_DOMAINS),
  metric: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  regionCode: textOf(0, 16),
  accelerator: textOf(0, 64),
  service: textOf(0, 64),
  kindLabel: textOf(0, 64),
  severity: z.enum(ALERT_SEVERITIES),
  /** The one-minute value that breached (raised) or no longer does (resolved). */
  value: z.number().finite(),
  threshold: z.number().finite(),
  raisedAt: z.string().datetime(),
  /** null while the alert fires. */
  resolvedAt: z.string().datetime().nullable(),
});
export type AlertEventData = z.infer<typeof alertEventData>;

export const AlertRaised = defineEvent({
  type: 'cinode.monitoring.alert.raised',
  stream: MONITORING_STREAM,
  schemaVersion: 1,
  schema: alertEventData,
  description: "A metric breached an alert rule's threshold for the rule's number of minutes.",
});

export const AlertResolved = defineEvent({
  type: 'cinode.monitoring.alert.resolved',
  stream: MONITORING_STREAM,
  schemaVersion: 1,
  schema: alertEventData,
  description: 'A firing alert no longer breaches its rule, or its rule was deleted.',
});
