import type { MonitoringDomainName } from '@cinode/contracts';
import { fromTimestamp, toTimestamp } from '@cinode/grpc';
import {
  Comparison,
  Domain,
  MetricKind,
  Resolution,
  type Alert,
  type AlertRule as AlertRuleMessage,
  type FeedEvent,
  type SeriesPoint,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import type { Timestamp } from '@cinode/proto/gen/google/protobuf/timestamp';
import type { AlertRule } from '../alerts/alert-rule-input';
import type { AlertEntity } from '../alerts/alert.entity';
import type { FeedRow } from '../feed/feed.repository';
import { valueOf } from '../alerts/rule-evaluation';
import type { ResolutionName, SeriesPointRow } from '../series/series.repository';

const DOMAINS: Record<MonitoringDomainName, Domain> = {
  resource: Domain.DOMAIN_RESOURCE,
  platform: Domain.DOMAIN_PLATFORM,
  scheduling: Domain.DOMAIN_SCHEDULING,
  application: Domain.DOMAIN_APPLICATION,
};

export const KNOWN_DOMAINS = Object.values(DOMAINS);

export function domainMessage(name: string): Domain {
  return DOMAINS[name as MonitoringDomainName] ?? Domain.DOMAIN_UNSPECIFIED;
}

/** The domain's name, undefined for DOMAIN_UNSPECIFIED or an unknown number. */
export function domainName(domain: Domain): MonitoringDomainName | undefined {
  return (Object.keys(DOMAINS) as MonitoringDomainName[]).find((k) => DOMAINS[k] === domain);
}

export function resolutionName(resolution: Resolution): ResolutionName | undefined {
  switch (resolution) {
    case Resolution.RESOLUTION_UNSPECIFIED:
    case Resolution.RESOLUTION_MINUTE:
      return 'minute';
    case Resolution.RESOLUTION_HOUR:
      return 'hour';
    case Resolution.RESOLUTION_DAY:
      return 'day';
    default:
      return undefined;
  }
}

const KINDS = {
  counter: MetricKind.METRIC_KIND_COUNTER,
  gauge: MetricKind.METRIC_KIND_GAUGE,
  summary: MetricKind.METRIC_KIND_SUMMARY,
} as const;

export function toPointMessage(point: SeriesPointRow): SeriesPoint {
  return {
    domain: domainMessage(point.domain),
    metric: point.metric,
    kind: KINDS[point.kind] ?? MetricKind.METRIC_KIND_UNSPECIFIED,
    regionCode: point.regionCode,
    accelerator: point.accelerator,
    service: point.service,
    kindLabel: point.kindLabel,
    bucketStart: toTimestamp(point.bucketStart),
    value: valueOf(point),
    count: point.count,
    sum: point.sum,
    min: point.min,
    max: point.max,
    last: point.last,
  };
}

export function toFeedMessage(row: FeedRow): FeedEvent {
  return {
    cursor: row.cursor,
    eventId: row.eventId,
    domain: domainMessage(row.domain),
    type: row.type,
    regionCode: row.regionCode,
    objectId: row.objectId,
    summary: row.summary,
    occurredAt: toTimestamp(row.occurredAt),
    recordedAt: toTimestamp(row.recordedAt),
  };
}

export function toRuleMessage(rule: AlertRule): AlertRuleMessage {
  return {
    ruleId: rule.ruleId,
    domain: domainMessage(rule.domain),
    metric: rule.metric,
    regionCode: rule.regionCode,
    accelerator: rule.accelerator,
    service: rule.service,
    comparison:
      rule.comparison === 'below' ? Comparison.COMPARISON_BELOW : Comparison.COMPARISON_ABOVE,
    threshold: rule.threshold,
    forMinutes: rule.forMinutes,
    severity: rule.severity,
    description: rule.description,
    updatedAt: toTimestamp(rule.updatedAt),
  };
}

export function toAlertMessage(alert: AlertEntity): Alert {
  return {
    alertId: alert.alertId,
    ruleId: alert.ruleId,
    domain: domainMessage(alert.domain),
    metric: alert.metric,
    regionCode: alert.regionCode,
    accelerator: alert.accelerator,
    service: alert.service,
    kindLabel: alert.kindLabel,
    severity: alert.severity,
    value: alert.value,
    threshold: alert.threshold,
    raisedAt: toTimestamp(alert.raisedAt),
    resolvedAt: alert.resolvedAt ? toTimestamp(alert.resolvedAt) : undefined,
  };
}

/** A timestamp the caller sent, or undefined when unset (checked by FieldChecks.timestamp first). */
export function dateOf(timestamp: Timestamp | undefined | null): Date | undefined {
  return timestamp ? fromTimestamp(timestamp) : undefined;
}
