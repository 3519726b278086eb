import { status as GrpcStatus } from '@grpc/grpc-js';
import { createGrpcClient, rpcMetricsInterceptor, type GrpcClient } from '@cinode/grpc';
import type {
  ProbeRequest,
  ProbeServiceClient,
} from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { createTestAuth, expectGrpcError, findFreePort, plaintext } from '@cinode/testing';
import { PROBE_SERVICE, startProbeServer, withTimeout, type ProbeServer } from './probe-server';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (enough of it for these metrics). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function valueOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

describe(`${rpcMetricsInterceptor.name} (installed by the bootstrap)`, () => {
  let server: ProbeServer;
  let metricsPort: number;
  let client: GrpcClient<ProbeServiceClient>;

  beforeAll(async () => {
    const auth = await createTestAuth();
    metricsPort = await findFreePort();
    server = await startProbeServer(auth, {
      METRICS_PORT: String(metricsPort),
      GRPC_MAX_DEADLINE_MS: '300',
    });
    const token = await auth.token(['service'], 'metrics-tester');
    client = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: server.address,
      credentials: plaintext(),
      token: () => token,
      defaultTimeoutMs: 5_000,
    });
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  async function scrape(): Promise<Sample[]> {
    const response = await withTimeout(
      fetch(`http://127.0.0.1:${metricsPort}/metrics`),
      5_000,
      'GET /metrics',
    );
    expect(response.status).toBe(200);
    return parseExposition(await response.text());
  }

  it('counts and times every Probe call by its final status code', async () => {
    const probe = (behaviour: string, delayMs = 0): ProbeRequest => ({
      message: 'm',
      behaviour,
      delayMs,
    });
    await client.api.probe(probe(''));
    await client.api.probe(probe(''));
    await expectGrpcError(client.api.probe(probe('validation')), GrpcStatus.INVALID_ARGUMENT);
    await expectGrpcError(client.api.probe(probe('validation')), GrpcStatus.INVALID_ARGUMENT);
    await expectGrpcError(client.api.probe(probe('validation')), GrpcStatus.INVALID_ARGUMENT);
    await expectGrpcError(client.api.probe(probe('not_found')), GrpcStatus.NOT_FOUND);
    await expectGrpcError(client.api.probe(probe('crash')), GrpcStatus.INTERNAL);
    // The server's 300 ms cap fires long before the client's 5 s deadline.
    await expectGrpcError(client.api.probe(probe('slow', 2_000)), GrpcStatus.DEADLINE_EXCEEDED);
    // Refused by the auth guard before any Nest interceptor runs: still counted.
    const anonymous = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: server.address,
      credentials: plaintext(),
    });
    await expectGrpcError(anonymous.api.probe(probe('')), GrpcStatus.UNAUTHENTICATED);
    anonymous.close();

    const samples = await scrape();
    const probeLabels = { grpc_service: PROBE_SERVICE, grpc_method: 'Probe' };
    const expected: Record<string, number> = {
      OK: 2,
      INVALID_ARGUMENT: 3,
      NOT_FOUND: 1,
      INTERNAL: 1,
      DEADLINE_EXCEEDED: 1,
      UNAUTHENTICATED: 1,
    };
    for (const [code, count] of Object.entries(expected)) {
      const labels = { ...probeLabels, grpc_code: code };
      expect({ code, handled: valueOf(samples, 'grpc_server_handled_total', labels) }).toEqual({
        code,
        handled: count,
      });
      expect({
        code,
        timed: valueOf(samples, 'grpc_server_handling_seconds_count', labels),
      }).toEqual({ code, timed: count });
      expect(
        valueOf(samples, 'grpc_server_handling_seconds_bucket', { ...labels, le: '+Inf' }),
      ).toBe(count);
    }
    const buckets = samples.filter(
      (s) =>
        s.name === 'grpc_server_handling_seconds_bucket' &&
        s.labels.grpc_method === 'Probe' &&
        s.labels.grpc_code === 'OK',
    );
    expect(buckets.length).toBeGreaterThan(5);
    // The deadline-exceeded call was timed at roughly its 300 ms budget.
    const slowSeconds = valueOf(samples, 'grpc_server_handling_seconds_sum', {
      ...probeLabels,
      grpc_code: 'DEADLINE_EXCEEDED',
    });
    expect(slowSeconds).toBeGreaterThanOrEqual(0.25);
    expect(slowSeconds).toBeLessThan(1.5);
    // Process metrics are served from the same registry.
    expect(samples.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
  });

  it('answers 404 off the /metrics path', async () => {
    const response = await withTimeout(
      fetch(`http://127.0.0.1:${metricsPort}/nope`),
      5_000,
      'GET /nope',
    );
    expect(response.status).toBe(404);
    await response.text();
  });
});
