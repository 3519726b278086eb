import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PooledIdGenerator } from './id-generator';

let sdk: NodeSDK | undefined;

/**
 * Starts the OpenTelemetry SDK. Must run before @grpc/grpc-js, pg and Nest are first required, or
 * their instrumentation silently records nothing; `@cinode/telemetry/register` does that as the
 * first import of every main.ts. Spans are recorded and exported over OTLP only when an exporter is
 * configured (OTEL_EXPORTER_OTLP_ENDPOINT); without one every span still has real trace and span
 * ids, so logs and audit records carry them.
 */
export function startTracing(serviceName: string): void {
  if (sdk) return;
  const env = process.env;
  env.OTEL_SERVICE_NAME ??= serviceName;
  const exporting =
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    (env.OTEL_TRACES_EXPORTER !== undefined && env.OTEL_TRACES_EXPORTER !== 'none');
  env.OTEL_TRACES_EXPORTER ??= 'otlp';
  env.OTEL_EXPORTER_OTLP_PROTOCOL ??= 'grpc';
  // Metrics are scraped from /metrics (prom-client); OTLP logs are not used.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME,
    idGenerator: new PooledIdGenerator(),
    // Exporting nowhere still needs a tracer provider, or every span (and every log line's trace
    // id) is the no-op one. Its spans are never sampled: each gets real trace and span ids, which
    // propagate to logs, audit records and the calls and events that follow, and nothing is
    // recorded (recording spans no one reads costs every call). With an
    // exporter configured, the SDK builds sampler and processors from the environment.
    ...(exporting
      ? {}
      : {
          spanProcessors: [new tracing.NoopSpanProcessor()],
          sampler: new tracing.AlwaysOffSampler(),
        }),
    // Instrumented only when spans go somewhere: patching grpc-js, pg and http costs every call
    // (a third of a small RPC's time) for spans no one would see. Without it the call pipeline
    // opens each call's span itself and the gRPC clients pass the trace context on, so trace ids
    // still follow a request from service to service in logs and audit records.
    instrumentations: exporting
      ? [
          new GrpcInstrumentation(),
          new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/metrics' }),
          new PgInstrumentation({ requireParentSpan: true }),
        ]
      : [],
  });
  sdk.start();
}

/** Flushes and stops the SDK; called on shutdown. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown();
}
