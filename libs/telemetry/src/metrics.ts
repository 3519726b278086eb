import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

export const rpcServerHandled = new Counter({
  name: 'grpc_server_handled_total',
  help: 'RPCs completed on the server, by method and status code.',
  labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
  registers: [metricsRegistry],
});

export const rpcServerDuration = new Histogram({
  name: 'grpc_server_handling_seconds',
  help: 'Time to handle an RPC on the server, by method and status code.',
  labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

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
