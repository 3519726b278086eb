import { once } from 'node:events';
import {
  Metadata,
  status as GrpcStatus,
  type ClientReadableStream,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  HealthService,
  ServingStatus,
  createGrpcClient,
  isGrpcError,
  type GrpcClient,
} from '@cinode/grpc';
import {
  HealthCheckRequest,
  HealthCheckResponse,
  type HealthClient,
} from '@cinode/proto/gen/grpc/health/v1/health';
import type { ProbeServiceClient } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { createTestAuth, expectGrpcError, type TestAuth, plaintext } from '@cinode/testing';
import {
  PROBE_SERVICE,
  rawClient,
  startProbeServer,
  withTimeout,
  type ProbeServer,
} from './probe-server';

const HEALTH = 'grpc.health.v1.Health';

/** A Watch stream whose updates are read one at a time. */
class HealthWatch {
  private readonly updates: ServingStatus[] = [];
  private readonly ended: Promise<StatusObject>;

  constructor(private readonly stream: ClientReadableStream<HealthCheckResponse>) {
    stream.on('data', (response: HealthCheckResponse) => {
      this.updates.push(response.status);
      stream.emit('update');
    });
    this.ended = once(stream, 'status').then(([status]) => status as StatusObject);
    // A failed stream also emits 'status'; the error itself needs a listener so it is not thrown.
    stream.on('error', () => undefined);
  }

  async next(timeoutMs = 5_000): Promise<ServingStatus> {
    const ready = this.updates.shift();
    if (ready !== undefined) return ready;
    await once(this.stream, 'update', { signal: AbortSignal.timeout(timeoutMs) });
    const update = this.updates.shift();
    if (update === undefined) throw new Error('update event without an update');
    return update;
  }

  finished(timeoutMs = 5_000): Promise<StatusObject> {
    return withTimeout(this.ended, timeoutMs, 'the Watch stream to end');
  }
}

describe(`${HealthService.name} over gRPC`, () => {
  let auth: TestAuth;
  let server: ProbeServer;
  let health: GrpcClient<HealthClient>;

  beforeAll(async () => {
    auth = await createTestAuth();
    server = await startProbeServer(auth, { SHUTDOWN_GRACE_MS: '5000' });
    health = createGrpcClient<HealthClient>(HEALTH, {
      address: server.address,
      credentials: plaintext(),
      defaultTimeoutMs: 2_000,
    });
  });

  afterAll(async () => {
    health?.close();
    await server?.stop();
  });

  it('reports SERVING for the server as a whole and for the served service', async () => {
    await expect(health.api.check({ service: '' })).resolves.toEqual({
      status: ServingStatus.SERVING,
    });
    await expect(health.api.check({ service: PROBE_SERVICE })).resolves.toEqual({
      status: ServingStatus.SERVING,
    });
  });

  it('answers NOT_FOUND for a service it does not serve', async () => {
    await expectGrpcError(
      health.api.check({ service: 'cinode.nothing.v1.NothingService' }),
      GrpcStatus.NOT_FOUND,
    );
  });

  it('goes NOT_SERVING when stop begins, drains the call in flight, then refuses connections', async () => {
    const watcher = rawClient(server.address);
    const token = await auth.token(['service'], 'drain-tester');
    const probe = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: server.address,
      credentials: plaintext(),
      token: () => token,
      defaultTimeoutMs: 5_000,
    });
    try {
      const watch = new HealthWatch(
        watcher.makeServerStreamRequest(
          `/${HEALTH}/Watch`,
          (value: HealthCheckRequest) => Buffer.from(HealthCheckRequest.encode(value).finish()),
          (bytes: Buffer) => HealthCheckResponse.decode(bytes),
          { service: '' },
          new Metadata(),
          { deadline: new Date(Date.now() + 20_000) },
        ),
      );
      expect(await watch.next()).toBe(ServingStatus.SERVING);

      const slowStarted = server.observations.nextSlowStart();
      const inFlight = probe.api.probe({ message: 'in flight', behaviour: 'slow', delayMs: 800 });
      await slowStarted;

      // The raw stop, without the test wrapper that aborts slow handlers.
      const stopping = server.service.stop();

      expect(await watch.next()).toBe(ServingStatus.NOT_SERVING);
      expect((await watch.finished()).code).toBe(GrpcStatus.OK);

      try {
        const answer = await health.api.check({ service: '' });
        expect(answer.status).toBe(ServingStatus.NOT_SERVING);
      } catch (error) {
        if (!isGrpcError(error)) throw error;
        expect(GrpcStatus[error.code]).toBe(GrpcStatus[GrpcStatus.UNAVAILABLE]);
      }

      // A call that began before stop() still completes within the grace period.
      await expect(inFlight).resolves.toMatchObject({ message: 'in flight' });
      await withTimeout(stopping, 6_000, 'stop() to finish');

      await expectGrpcError(health.api.check({ service: '' }), GrpcStatus.UNAVAILABLE);
    } finally {
      probe.close();
      watcher.close();
    }
  });
});
