/**
 * The settings every service started inside a test process shares: its database, NATS (when it
 * uses one), the test keys its callers' tokens are verified with, its gRPC port, no metrics port
 * of its own, a short shutdown grace, and warnings only. Load shedding on event-loop lag is off:
 * in process the event loop is the test's too, and its lag is not the service's load. A harness
 * spreads these first and its own settings after them.
 */
export function inProcessServiceSettings(service: {
  databaseUrl: string;
  natsUrl?: string;
  publicKeys: string;
  port: number;
}): Record<string, string> {
  return {
    DATABASE_URL: service.databaseUrl,
    ...(service.natsUrl === undefined ? {} : { NATS_URL: service.natsUrl }),
    AUTH_JWT_PUBLIC_KEYS: service.publicKeys,
    GRPC_PORT: String(service.port),
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '1000',
    GRPC_SHED_LAG_MS: '0',
    LOG_LEVEL: 'warn',
  };
}
