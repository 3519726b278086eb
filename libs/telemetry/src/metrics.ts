import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The one Prometheus registry of a process. Every library registers its instruments here and the
 * service's `/metrics` endpoint serves it.
 */
export const metricsRegistry = new Registry();

let defaultsCollected = false;

/** Process metrics (CPU, RSS, event-loop lag, GC); called once by the service bootstrap. */
export function collectProcessMetrics(service: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry });
}

/** Upper bounds (seconds) of grpc_server_handling_seconds. */
const RPC_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The calls of one method that ended with one status code. */
export class RpcSeries {
  handled = 0;
  seconds = 0;
  /** Calls per bucket (not cumulative; the last one is +Inf). */
  readonly buckets = new Float64Array(RPC_DURATION_BUCKETS.length + 1);

  constructor(
    readonly labels: Readonly<Record<'grpc_service' | 'grpc_method' | 'grpc_code', string>>,
  ) {}

  reset(): void {
    this.handled = 0;
    this.seconds = 0;
    this.buckets.fill(0);
  }

  /** One call that took `seconds`. */
  record(seconds: number): void {
    this.handled += 1;
    this.seconds += seconds;
    let i = 0;
    while (i < RPC_DURATION_BUCKETS.length && seconds > RPC_DURATION_BUCKETS[i]) i += 1;
    this.buckets[i] += 1;
  }
}

/**
 * grpc_server_handled_total and grpc_server_handling_seconds, the way every call is counted: each
 * (method, code) is one series object the caller holds, and counting a call is a few additions.
 * (prom-client's own Counter and Histogram hash and check their labels on every increment, even
 * through `labels()`, which cost more than the rest of a small call's bookkeeping.) The registry
 * reads them like any metric.
 */
export class RpcServerMetrics {
  private readonly series = new Map<string, RpcSeries>();

  constructor(registry: Registry) {
    const all = () => [...this.series.values()];
    const reset = () => this.series.forEach((s) => s.reset());
    registry.registerMetric(
      collector(
        reset,
        'grpc_server_handled_total',
        'RPCs completed on the server, by method and status code.',
        'counter',
        () => all().map((s) => ({ labels: s.labels, value: s.handled })),
      ),
    );
    registry.registerMetric(
      collector(
        reset,
        'grpc_server_handling_seconds',
        'Time to handle an RPC on the server, by method and status code.',
        'histogram',
        () =>
          all().flatMap((s) => {
            let cumulative = 0;
            const buckets = [...RPC_DURATION_BUCKETS, Infinity].map((bound, i) => {
              cumulative += s.buckets[i];
              return {
                metricName: 'grpc_server_handling_seconds_bucket',
                labels: { ...s.labels, le: bound === Infinity ? '+Inf' : String(bound) },
                value: cumulative,
              };
            });
            return [
              ...buckets,
              {
                metricName: 'grpc_server_handling_seconds_sum',
                labels: s.labels,
                value: s.seconds,
              },
              {
                metricName: 'grpc_server_handling_seconds_count',
                labels: s.labels,
                value: s.handled,
              },
            ];
          }),
      ),
    );
  }

  /** The series of a method (`service`, `method`) and status code name, made on first use. */
  seriesOf(service: string, method: string, code: string): RpcSeries {
    const key = `${code} ${service}/${method}`;
    let found = this.series.get(key);
    if (!found) {
      found = new RpcSeries({ grpc_service: service, grpc_method: method, grpc_code: code });
      this.series.set(key, found);
    }
    return found;
  }
}

type MetricValue = { labels: Record<string, string>; value: number; metricName?: string };

/** A metric the registry collects by calling `values` (shape of prom-client's MetricObject). */
function collector(
  reset: () => void,
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  values: () => MetricValue[],
): Parameters<Registry['registerMetric']>[0] {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    // The registry may rename a metric (OpenMetrics counters): report the name it holds now.
    get: () =>
      Promise.resolve({ name: metric.name, help, type, aggregator: 'sum', values: values() }),
    reset,
  };
  return metric as unknown as Parameters<Registry['registerMetric']>[0];
}

export const rpcServerMetrics = new RpcServerMetrics(metricsRegistry);

export const eventsPublished = new Counter({
  name: 'cinode_events_published_total',
  help: 'Events published to NATS JetStream by the outbox relay, by subject and result.',
  labelNames: ['subject', 'result'] as const,
  registers: [metricsRegistry],
});

export const eventsConsumed = new Counter({
  name: 'cinode_events_consumed_total',
  help: 'Events handled by consumers, by consumer, subject and result (processed, duplicate, retried, dead_lettered).',
  labelNames: ['consumer', 'subject', 'result'] as const,
  registers: [metricsRegistry],
});

export const consumerRestarts = new Counter({
  name: 'cinode_event_consumer_restarts_total',
  help: "Times a durable consumer's pull ended while its service ran (its stream or consumer gone, the pull failed) and the consumer was declared and started again, by consumer.",
  labelNames: ['consumer'] as const,
  registers: [metricsRegistry],
});

export const callsShed = new Counter({
  name: 'cinode_calls_shed_total',
  help: 'Calls refused before they ran, by reason (overloaded, deadline_passed, address_denied: none audited; rate_limited, quarantined: audited) and RPC (ShortService/Method).',
  labelNames: ['reason', 'rpc'] as const,
  registers: [metricsRegistry],
});

export const auditParticipantRefusalsSuppressed = new Counter({
  name: 'cinode_audit_participant_refusals_suppressed_total',
  help: 'Refusals of known participants for volume (RATE_LIMITED, PARTICIPANT_QUARANTINED, QUARANTINE_LIST_UNREAD) not recorded one by one: a participant over AUDIT_CALLER_REFUSALS_PER_MINUTE in its minute (summarised in a warning per minute), by RPC (ShortService/Method).',
  labelNames: ['rpc'] as const,
  registers: [metricsRegistry],
});

export const auditSuppressed = new Counter({
  name: 'cinode_audit_unauthenticated_suppressed_total',
  help: 'Refusals of unauthenticated calls to audited RPCs not recorded one by one: an address over AUDIT_UNAUTHENTICATED_PER_MINUTE in its minute (summarised in a warning per address and minute), by RPC (ShortService/Method).',
  labelNames: ['rpc'] as const,
  registers: [metricsRegistry],
});

export const rpcDeclarations = new Gauge({
  name: 'cinode_rpc_declared',
  help: 'The RPCs this service serves (ShortService/Method), each 1, by kind: audited (changes state, one audit record per call) or read_only.',
  labelNames: ['rpc', 'kind'] as const,
  registers: [metricsRegistry],
});

export const eventLoopLag = new Gauge({
  name: 'cinode_event_loop_lag_seconds',
  help: "How far the event loop was behind at the load shedder's last sample.",
  registers: [metricsRegistry],
});

export const outboxPending = new Gauge({
  name: 'cinode_outbox_pending',
  help: 'Outbox rows not yet published (parked ones apart), as last seen by the relay.',
  registers: [metricsRegistry],
});

export const outboxParked = new Gauge({
  name: 'cinode_outbox_parked',
  help: 'Outbox rows set aside after their last allowed attempt (npm run outbox -- list): alert on > 0.',
  registers: [metricsRegistry],
});

export const dbPoolConnections = new Gauge({
  name: 'cinode_db_pool_connections',
  help: 'Postgres pool connections by state (total, idle, waiting).',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
});

export const quarantinedParticipants = new Gauge({
  name: 'cinode_quarantined_participants',
  help: 'Participants whose calls this service refuses (PARTICIPANT_QUARANTINED), as last read from the quarantine bucket.',
  registers: [metricsRegistry],
});

export const quarantineWatchSynced = new Gauge({
  name: 'cinode_quarantine_watch_synced',
  help: 'Whether the watch of the quarantine bucket is up and has read its keys (1) or not (0: the last known list holds).',
  registers: [metricsRegistry],
});
