import { Metadata, status as GrpcStatus, type Client, type ServiceError } from '@grpc/grpc-js';
import { LoadShedder } from '@cinode/kit';
import { HealthCheckRequest, HealthCheckResponse } from '@cinode/proto/gen/grpc/health/v1/health';
import { bearer, createTestAuth, expectGrpcError, findFreePort } from '@cinode/testing';
import {
  PROBE_DOMAIN,
  PROBE_PATH,
  rawClient,
  rawProbe,
  startProbeServer,
  withTimeout,
  type ProbeServer,
} from './probe-server';

const MAX_MESSAGE_BYTES = 4_096;

/** Sends `bytes` as the request of Probe, whatever they are, and resolves with how it ended. */
function rawBytes(client: Client, bytes: Buffer, metadata: Metadata): Promise<ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      PROBE_PATH,
      (value: Buffer) => value,
      (value: Buffer) => value,
      bytes,
      metadata,
      { deadline: new Date(Date.now() + 5_000) },
      (error: ServiceError | null) => resolve(error),
    );
  });
}

function healthCheck(client: Client): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (value: HealthCheckRequest) => Buffer.from(HealthCheckRequest.encode(value).finish()),
      (bytes: Buffer) => HealthCheckResponse.decode(bytes),
      { service: '' },
      new Metadata(),
      { deadline: new Date(Date.now() + 5_000) },
      (error: ServiceError | null, response?: HealthCheckResponse) =>
        error ? reject(error) : resolve(response!),
    );
  });
}

/** One counter's value in the service's Prometheus text, 0 when absent. */
async function counter(metricsPort: number, line: RegExp): Promise<number> {
  const response = await withTimeout(
    fetch(`http://127.0.0.1:${metricsPort}/metrics`),
    5_000,
    'GET /metrics',
  );
  const found = (await response.text()).split('\n').find((l) => line.test(l));
  return found ? Number(found.slice(found.lastIndexOf(' ') + 1)) : 0;
}

/**
 * Load shedding at the wire (WireAdmission with the kit's LoadShedder): while the service is
 * overloaded, a call is refused as its headers arrive, before its request is read, its caller
 * authenticated or its handler run, with the same status the call pipeline gives; health still
 * answers. Only the overload signal is made up (the shedder's share): the server, the interceptor
 * and the wire are the real ones.
 */
describe('wire admission', () => {
  let server: ProbeServer;
  let shedder: LoadShedder;
  let client: Client;
  let token: string;
  let metricsPort: number;
  let share: jest.SpyInstance<number, []>;

  beforeAll(async () => {
    const auth = await createTestAuth();
    token = await auth.token(['service'], 'admission-tester');
    metricsPort = await findFreePort();
    server = await startProbeServer(auth, {
      METRICS_PORT: String(metricsPort),
      GRPC_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    });
    shedder = server.service.app.get(LoadShedder, { strict: false });
    client = rawClient(server.address);
  });

  beforeEach(() => {
    share = jest.spyOn(shedder, 'sheddingShare', 'get');
  });

  afterEach(() => share.mockRestore());

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('refuses every call while the whole share is shed, with RESOURCE_EXHAUSTED OVERLOADED and a retry delay, running nothing', async () => {
    share.mockReturnValue(1);
    const ranBefore = server.observations.deadlines.length;
    const shedBefore = await counter(
      metricsPort,
      /^cinode_calls_shed_total\{.*reason="overloaded"/,
    );
    const handledBefore = await counter(
      metricsPort,
      /^grpc_server_handled_total\{.*grpc_method="Probe".*grpc_code="RESOURCE_EXHAUSTED"/,
    );
    for (let i = 0; i < 3; i += 1) {
      const { details, status } = await expectGrpcError(
        rawProbe(client, { message: 'm' }, { metadata: bearer(token) }),
        GrpcStatus.RESOURCE_EXHAUSTED,
      );
      expect(details).toBe('the service is overloaded; retry shortly');
      expect(status?.errorInfo).toMatchObject({ reason: 'OVERLOADED', domain: PROBE_DOMAIN });
      expect(status?.retryDelaySeconds).toBe(1);
    }
    expect(server.observations.deadlines.length).toBe(ranBefore);
    expect(await counter(metricsPort, /^cinode_calls_shed_total\{.*reason="overloaded"/)).toBe(
      shedBefore + 3,
    );
    // The refusals are the service's answers like any other: counted by method and code.
    expect(
      await counter(
        metricsPort,
        /^grpc_server_handled_total\{.*grpc_method="Probe".*grpc_code="RESOURCE_EXHAUSTED"/,
      ),
    ).toBe(handledBefore + 3);
  });

  it('refuses before reading the request or the caller', async () => {
    share.mockReturnValue(1);
    // A request over the size limit: grpc-js refuses it as it reads it, so a call refused after
    // reading (by the call pipeline) would say so; one refused at the wire never got that far.
    const oversized = Buffer.alloc(MAX_MESSAGE_BYTES * 2, 0x41);
    const refused = await rawBytes(client, oversized, new Metadata());
    expect(refused?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(refused?.details).toBe('the service is overloaded; retry shortly');
    // No token, bytes that are no request: taken, they are UNAUTHENTICATED and, first, too large.
    share.mockReturnValue(0);
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0x0f]);
    expect((await rawBytes(client, garbage, new Metadata()))?.code).toBe(
      GrpcStatus.UNAUTHENTICATED,
    );
    const read = await rawBytes(client, oversized, new Metadata());
    expect(read?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(read?.details).toMatch(/larger than max/);
  });

  it('keeps health answering however overloaded', async () => {
    share.mockReturnValue(1);
    await expect(healthCheck(client)).resolves.toMatchObject({ status: 1 });
  });

  it('takes calls again once nothing is shed, and sheds a share in between', async () => {
    share.mockReturnValue(0);
    await expect(
      rawProbe(client, { message: 'back' }, { metadata: bearer(token) }),
    ).resolves.toMatchObject({ message: 'back' });
    share.mockReturnValue(0.5);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, () =>
        rawProbe(client, { message: 'half' }, { metadata: bearer(token) }).then(
          () => 'ok',
          (error: ServiceError) => GrpcStatus[error.code],
        ),
      ),
    );
    const shed = outcomes.filter((o) => o === 'RESOURCE_EXHAUSTED').length;
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'RESOURCE_EXHAUSTED')).toEqual([]);
    // Binomial(200, 0.5): outside 60..140 once in about 10^8 runs.
    expect(shed).toBeGreaterThan(60);
    expect(shed).toBeLessThan(140);
  });

  it('tells a deny-listed address so, before it sheds and before it reads the request', async () => {
    const auth = await createTestAuth();
    // This test's own address is the one denied.
    const denying = await startProbeServer(auth, {
      GRPC_DENY_CIDRS: '127.0.0.1/32',
      GRPC_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    });
    const denied = rawClient(denying.address);
    const overloaded = jest
      .spyOn(denying.service.app.get(LoadShedder, { strict: false }), 'sheddingShare', 'get')
      .mockReturnValue(1);
    try {
      const { status } = await expectGrpcError(
        rawProbe(denied, { message: 'm' }, { metadata: bearer(token) }),
        GrpcStatus.PERMISSION_DENIED,
      );
      expect(status?.errorInfo).toMatchObject({ reason: 'ADDRESS_DENIED', domain: PROBE_DOMAIN });
      const oversized = await rawBytes(
        denied,
        Buffer.alloc(MAX_MESSAGE_BYTES * 2, 0x41),
        new Metadata(),
      );
      expect(oversized?.code).toBe(GrpcStatus.PERMISSION_DENIED);
      await expect(healthCheck(denied)).resolves.toMatchObject({ status: 1 });
    } finally {
      overloaded.mockRestore();
      denied.close();
      await denying.stop();
    }
  });
});
