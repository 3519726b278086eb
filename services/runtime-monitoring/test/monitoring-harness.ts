import type { ClientReadableStream, Metadata } from '@grpc/grpc-js';
import { createGrpcClient, type GrpcClient, type RunningGrpcService } from '@cinode/grpc';
import { startService } from '@cinode/kit';
import { createLogger } from '@cinode/logging';
import type { MonitoringServiceClient } from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import {
  bearer,
  findFreePort,
  plaintext,
  type TestAuth,
  inProcessServiceSettings,
} from '@cinode/testing';
import { runtimeMonitoringService } from '../src/service';

export interface MonitoringUnderTest {
  service: RunningGrpcService;
  address: string;
  stop(): Promise<void>;
}

/** Starts the real runtime monitoring in process, with fast periodic work. */
export async function startMonitoring(
  databaseUrl: string,
  auth: TestAuth,
  natsUrl: string,
  env: Record<string, string> = {},
): Promise<MonitoringUnderTest> {
  const port = await findFreePort();
  const config = runtimeMonitoringService.loadConfig({
    ...inProcessServiceSettings({
      databaseUrl,
      natsUrl: natsUrl,
      publicKeys: auth.publicKeys,
      port,
    }),
    EVENT_RETRY_INITIAL_MS: '100',
    EVENT_RETRY_MAX_MS: '500',
    ROLLUP_INTERVAL_MS: '100',
    SAMPLE_INTERVAL_MS: '200',
    ALERT_EVAL_INTERVAL_MS: '200',
    FEED_POLL_MS: '100',
    ...env,
  });
  const service = await startService(
    runtimeMonitoringService,
    config,
    createLogger({
      service: runtimeMonitoringService.name,
      level: process.env.TEST_LOG_LEVEL ?? 'silent',
    }),
  );
  return { service, address: `127.0.0.1:${port}`, stop: () => service.stop() };
}

export function monitoringClient(address: string): GrpcClient<MonitoringServiceClient> {
  return createGrpcClient<MonitoringServiceClient>('cinode.monitoring.v1.MonitoringService', {
    address,
    credentials: plaintext(),
    defaultTimeoutMs: 10_000,
  });
}

/** Opens a server-streaming call of the raw client (e.g. `watchFeed`) with a token. */
export function openStream<T>(
  client: GrpcClient<MonitoringServiceClient>,
  method: 'watchFeed' | 'exportCsv',
  request: unknown,
  token: string,
  deadlineMs = 30_000,
): ClientReadableStream<T> {
  const raw = client.raw as unknown as Record<
    string,
    (request: unknown, metadata: Metadata, options: { deadline: Date }) => ClientReadableStream<T>
  >;
  return raw[method].call(client.raw, request, bearer(token), {
    deadline: new Date(Date.now() + deadlineMs),
  });
}

/** Reads messages of a stream until `count` arrived (then cancels it) or it ends. */
export function readMessages<T>(stream: ClientReadableStream<T>, count: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const messages: T[] = [];
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      if (error) reject(error);
      else resolve(messages);
    };
    stream.on('data', (message: T) => {
      if (done) return;
      messages.push(message);
      if (messages.length >= count) {
        finish();
        stream.cancel();
      }
    });
    stream.on('error', (error: Error & { code?: number }) => {
      // 1 = CANCELLED: our own cancel after the last message wanted.
      if (error.code === 1 && done) return;
      finish(error);
    });
    stream.on('end', () => finish());
  });
}
