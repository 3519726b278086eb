import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { GrpcOptions, MicroserviceOptions } from '@nestjs/microservices';
import type { Server, ServiceDefinition } from '@grpc/grpc-js';
import type { BaseServiceConfig } from '@cinode/config';
import { PinoNestLogger, createLogger } from '@cinode/logging';
import { cinodePackageDefinition, descriptorSet } from '@cinode/proto';
import {
  collectProcessMetrics,
  startMetricsServer,
  stopTracing,
  type MetricsServer,
} from '@cinode/telemetry';
import type { Logger } from 'pino';
import { ADMISSION_GATE, WireAdmission, type AdmissionGate } from './admission';
import { DIRECT_DISPATCH, DispatchingGrpcServer, type DirectDispatch } from './direct-dispatch';
import { GrpcExceptionFilter } from './grpc-exception.filter';
import { HealthService, ServingStatus } from './health';
import { ReflectionService } from './reflection';
import { rpcMetricsInterceptor } from './rpc-metrics';
import { withTolerantRequestDecoding } from './undecodable-request';
import { withFrozenResponseEncoding } from './frozen-responses';
import { serverCredentials } from './server-credentials';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';
const REFLECTION_SERVICES = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

export interface GrpcServiceSpec {
  /** Service name for logs, metrics and errors, e.g. "national-node-mock". */
  name: string;
  /** The root module of the service; it receives the config through its own providers. */
  module: Type<unknown> | DynamicModule;
  /** Fully qualified gRPC services this process serves, e.g. "cinode.national.v1.NationalNodeService". */
  services: readonly string[];
  config: BaseServiceConfig;
  /** Overrides the pino logger (tests). */
  logger?: Logger;
}

/** A running gRPC service. */
export interface RunningGrpcService {
  app: INestMicroservice;
  health: HealthService;
  port: number;
  metrics?: MetricsServer;
  logger: Logger;
  /** Graceful stop: NOT_SERVING, drain calls within the grace period, then close everything. */
  stop(): Promise<void>;
}

/** The service's DirectDispatch, when its module provides one. */
function directDispatchOf(app: INestMicroservice): DirectDispatch | undefined {
  try {
    return app.get<DirectDispatch>(DIRECT_DISPATCH, { strict: false });
  } catch {
    return undefined;
  }
}

/** The service's AdmissionGate, when its module provides one. */
function admissionGateOf(app: INestMicroservice): AdmissionGate | undefined {
  try {
    return app.get<AdmissionGate>(ADMISSION_GATE, { strict: false });
  } catch {
    return undefined;
  }
}

function packagesOf(services: readonly string[]): string[] {
  return [...new Set(services.map((s) => s.slice(0, s.lastIndexOf('.'))))];
}

/**
 * Starts a NestJS gRPC microservice the way every cinode service runs: one package definition from
 * the buf descriptor set, health checking and reflection, message size limits, keepalive, TLS when
 * configured, the global exception filter and RPC interceptor, Prometheus metrics, and a graceful
 * stop bounded by SHUTDOWN_GRACE_MS.
 */
export async function startGrpcService(spec: GrpcServiceSpec): Promise<RunningGrpcService> {
  const { config } = spec;
  process.env.CINODE_SERVICE ??= spec.name;
  const logger = spec.logger ?? createLogger({ service: spec.name, level: config.LOG_LEVEL });
  const domain = `${spec.name}.cinode`;
  const health = new HealthService(spec.services);
  const reflection = config.GRPC_REFLECTION
    ? new ReflectionService(descriptorSet(), [
        ...spec.services,
        HEALTH_SERVICE,
        ...REFLECTION_SERVICES,
      ])
    : undefined;
  const packageDefinition = withFrozenResponseEncoding(
    withTolerantRequestDecoding(cinodePackageDefinition(), spec.services),
    spec.services,
  );
  let grpcServer: Server | undefined;
  const admission = new WireAdmission();

  const port = config.GRPC_PORT;
  const options: GrpcOptions['options'] = {
    url: `${config.GRPC_HOST}:${port}`,
    package: packagesOf(spec.services),
    packageDefinition,
    // Nest passes channelOptions into the grpc-js Server constructor, which takes interceptors.
    // Admission wraps the metrics interceptor: the calls it refuses are counted like any other.
    // Channelz off: nothing serves it, and it costs every call a tracker of four closures and a
    // Date per message. The stream limit bounds the calls each connection can have open.
    channelOptions: {
      interceptors: [rpcMetricsInterceptor, admission.interceptor],
      'grpc.enable_channelz': 0,
      'grpc.max_concurrent_streams': config.GRPC_MAX_CONCURRENT_STREAMS,
    },
    maxReceiveMessageLength: config.GRPC_MAX_MESSAGE_BYTES,
    maxSendMessageLength: config.GRPC_MAX_MESSAGE_BYTES,
    keepalive: {
      keepaliveTimeMs: config.GRPC_KEEPALIVE_TIME_MS,
      keepaliveTimeoutMs: config.GRPC_KEEPALIVE_TIMEOUT_MS,
      http2MinPingIntervalWithoutDataMs: 10_000,
    },
    credentials: serverCredentials({
      certFile: config.GRPC_TLS_CERT_FILE,
      keyFile: config.GRPC_TLS_KEY_FILE,
      caFile: config.GRPC_TLS_CA_FILE,
    }),
    // Shutdown is driven by stop() below, which bounds the drain; Nest then force-closes.
    gracefulShutdown: false,
    onLoadPackageDefinition: (_pkg: unknown, server: Server) => {
      grpcServer = server;
      server.addService(
        packageDefinition[HEALTH_SERVICE] as ServiceDefinition,
        health.implementation(),
      );
      if (reflection) {
        for (const name of REFLECTION_SERVICES) {
          server.addService(
            packageDefinition[name] as ServiceDefinition,
            reflection.implementation(),
          );
        }
      }
    },
  };

  const server = new DispatchingGrpcServer(options);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(spec.module, {
    strategy: server,
    logger: new PinoNestLogger(logger),
  });
  const filter = new GrpcExceptionFilter(domain);
  app.useGlobalFilters(filter);
  // Unary methods the service's dispatch takes are served without Nest's per-call context.
  server.dispatch = directDispatchOf(app);
  server.toStatus = (error, path) => filter.toPayload(error, undefined, path);
  const gate = admissionGateOf(app);
  if (gate) admission.install(gate, (error, path) => filter.toPayload(error, undefined, path));
  await app.listen();

  collectProcessMetrics(spec.name);
  const metrics =
    config.METRICS_PORT > 0
      ? await startMetricsServer(config.GRPC_HOST, config.METRICS_PORT)
      : undefined;
  health.setAll(ServingStatus.SERVING);
  logger.info(
    { grpc: options.url, metricsPort: metrics?.port, reflection: Boolean(reflection) },
    `${spec.name} serving`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      health.setAll(ServingStatus.NOT_SERVING);
      health.endWatches();
      // Still accepting calls: whoever routes to this instance learns it is leaving first.
      if (config.SHUTDOWN_DRAIN_DELAY_MS > 0) {
        logger.info(`not serving; closing in ${config.SHUTDOWN_DRAIN_DELAY_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_DELAY_MS));
      }
      const server = grpcServer;
      if (server) await drain(server, config.SHUTDOWN_GRACE_MS);
      await app.close();
      await metrics?.close();
      logger.info(`${spec.name} stopped`);
    })();
    return stopping;
  };
  return { app, health, port, metrics, logger, stop };
}

/** Lets in-flight calls finish for up to graceMs, then cuts the rest off. */
function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Runs a service as a process: stops gracefully on SIGTERM/SIGINT, flushes telemetry, and exits
 * non-zero if start-up fails. `main.ts` calls this after loading its config.
 */
export function runUntilSignalled(start: () => Promise<RunningGrpcService>): void {
  start()
    .then((running) => {
      const shutdown = (signal: string) => {
        running.logger.info({ signal }, 'shutting down');
        running
          .stop()
          .then(() => stopTracing())
          .then(() => process.exit(0))
          .catch((error: unknown) => {
            running.logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          });
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}
