import type { MonitoringDomainName } from '@cinode/contracts';

export type MetricKindName = 'counter' | 'gauge' | 'summary';

interface MetricDefinition {
  domain: MonitoringDomainName;
  kind: MetricKindName;
  description: string;
}

const counter = (domain: MonitoringDomainName, description: string): MetricDefinition => ({
  domain,
  kind: 'counter',
  description,
});
const gauge = (domain: MonitoringDomainName, description: string): MetricDefinition => ({
  domain,
  kind: 'gauge',
  description,
});
const summary = (domain: MonitoringDomainName, description: string): MetricDefinition => ({
  domain,
  kind: 'summary',
  description,
});

/**
 * Every metric monitoring keeps, with its domain and kind. Dimensions: region code (`*` node-wide),
 * accelerator (model of a pool's first accelerator, `none`, `*`), service, and a kind label (a
 * participant kind, order or task state, pool class). README.md lists the sources.
 */
export const METRICS = {
  // Resource business: levels sampled from the pools' newest states.
  pools_online: gauge('resource', 'pools online (in selection)'),
  pools_stale: gauge('resource', 'pools that stopped reporting (stale)'),
  pools_offline: gauge('resource', 'pools offline'),
  pools_suspended: gauge('resource', 'pools suspended with their identifier'),
  pools_pending_filing: gauge('resource', 'pools waiting for their identifier filing'),
  cpu_cores_total: gauge('resource', 'CPU cores of online pools'),
  cpu_cores_free: gauge('resource', 'free CPU cores of online pools'),
  gpu_cards_total: gauge('resource', 'GPU cards of online pools'),
  gpu_cards_free: gauge('resource', 'free GPU cards of online pools'),
  npu_cards_total: gauge('resource', 'NPU cards of online pools'),
  npu_cards_free: gauge('resource', 'free NPU cards of online pools'),
  fp16_tflops_total: gauge('resource', 'FP16 TFLOPS of online pools'),
  fp16_tflops_free: gauge('resource', 'free FP16 TFLOPS of online pools'),
  gpu_utilisation: gauge('resource', 'share of online pools’ GPU cards in use, 0 to 1'),
  npu_utilisation: gauge('resource', 'share of online pools’ NPU cards in use, 0 to 1'),
  cpu_utilisation: gauge('resource', 'share of online pools’ CPU cores in use, 0 to 1'),
  // Resource business: events.
  pools_registered: counter('resource', 'pools registered'),
  pools_went_stale: counter('resource', 'pools that went stale (faults discovered)'),
  pools_went_offline: counter('resource', 'pools that went offline'),
  pools_recovered: counter('resource', 'pools online again after stale or offline'),
  fault_discovery_ms: summary('resource', 'from a pool’s last report to its going stale'),
  fault_recovery_ms: summary('resource', 'from a pool going stale or offline to online again'),
  // Platform business.
  participants_registered: counter('platform', 'registrations, by participant kind'),
  participants_certified: counter('platform', 'certifications, by participant kind'),
  participant_transitions: counter('platform', 'participant state changes, by new state'),
  participants_certified_now: gauge('platform', 'certified participants, by kind'),
  identifiers_issued: counter('platform', 'identifiers issued, by object type'),
  identifiers_filed: counter('platform', 'identifiers filed with the national node'),
  identifiers_suspended: counter('platform', 'identifiers suspended or retired'),
  api_calls: counter('platform', 'API calls answered, by service'),
  api_errors: counter('platform', 'API calls answered with a server-side error, by service'),
  api_latency_ms: summary('platform', 'API call handling time, by service'),
  service_up: gauge('platform', '1 when the service answered its metrics scrape, else 0'),
  // Scheduling business.
  demands_submitted: counter('scheduling', 'demands submitted, by pool class'),
  demands_with_candidates: counter('scheduling', 'demands for which selection found candidates'),
  demands_without_candidates: counter('scheduling', 'demands with no candidate'),
  candidates_per_demand: summary('scheduling', 'candidates kept per demand'),
  orders: counter('scheduling', 'order state changes, by new state'),
  holds_requested: counter('scheduling', 'holds asked for (orders placed)'),
  holds_confirmed: counter('scheduling', 'holds confirmed (orders allocated)'),
  holds_refused: counter('scheduling', 'holds refused (orders refused)'),
  allocations_created: counter('scheduling', 'allocations created at resource aggregation'),
  tasks: counter('scheduling', 'task state changes, by new state'),
  demand_to_allocation_ms: summary('scheduling', 'from a demand’s submission to its allocation'),
  task_response_ms: summary('scheduling', 'from an allocation to its task running'),
  // Application business: what the node knows of application service providers.
  application_providers_registered: counter('application', 'application providers registered'),
  application_providers_certified: counter('application', 'application providers certified'),
  application_providers_active: gauge('application', 'application providers certified now'),
  application_providers_left: counter('application', 'application providers suspended or revoked'),
  application_services_identified: counter(
    'application',
    'application service identifiers (object type AS) issued',
  ),
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(METRICS, name);
}

/** Dimensions of a series; each empty when it does not apply. */
export interface Dimensions {
  regionCode?: string;
  accelerator?: string;
  service?: string;
  kindLabel?: string;
}

/** One observation for the staging table. */
export interface Observation {
  domain: MonitoringDomainName;
  metric: MetricName;
  kind: MetricKindName;
  regionCode: string;
  accelerator: string;
  service: string;
  kindLabel: string;
  observedAt: Date;
  value: number;
  weight: number;
}

/** An observation of `metric`, its domain and kind from the catalogue. */
export function observe(
  metric: MetricName,
  dimensions: Dimensions,
  observedAt: Date,
  value = 1,
  weight = 1,
): Observation {
  const { domain, kind } = METRICS[metric];
  return {
    domain,
    metric,
    kind,
    regionCode: dimensions.regionCode ?? '',
    accelerator: dimensions.accelerator ?? '',
    service: dimensions.service ?? '',
    kindLabel: dimensions.kindLabel ?? '',
    observedAt,
    value,
    weight,
  };
}
