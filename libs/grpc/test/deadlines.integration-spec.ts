import { status as GrpcStatus, type Client } from '@grpc/grpc-js';
import { createGrpcClient } from '@cinode/grpc';
import { CallPipeline } from '@cinode/kit';
import type { ProbeServiceClient } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { bearer, createTestAuth, expectGrpcError, type TestAuth, plaintext } from '@cinode/testing';
import {
  PROBE_DOMAIN,
  PROBE_SERVICE,
  rawClient,
  rawProbe,
  startProbeServer,
  type ProbeServer,
} from './probe-server';

const SLOW = { message: 'slow', behaviour: 'slow', delayMs: 2_000 };

describe(`${CallPipeline.name} deadlines`, () => {
  let auth: TestAuth;
  let token: string;
  /** Calls without a deadline get 300 ms; long client deadlines are honoured. */
  let shortDefault: ProbeServer;
  /** Client deadlines are cut to 300 ms; calls without one get 30 s. */
  let shortMax: ProbeServer;
  /** Neither limit is in the way. */
  let generous: ProbeServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    auth = await createTestAuth();
    token = await auth.token(['service'], 'deadline-tester');
    [shortDefault, shortMax, generous] = await Promise.all([
      startProbeServer(auth, { GRPC_DEFAULT_DEADLINE_MS: '300', GRPC_MAX_DEADLINE_MS: '120000' }),
      startProbeServer(auth, { GRPC_DEFAULT_DEADLINE_MS: '30000', GRPC_MAX_DEADLINE_MS: '300' }),
      startProbeServer(auth, { GRPC_DEFAULT_DEADLINE_MS: '30000', GRPC_MAX_DEADLINE_MS: '120000' }),
    ]);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([shortDefault?.stop(), shortMax?.stop(), generous?.stop()]);
  });

  function clientOf(server: ProbeServer): Client {
    const client = rawClient(server.address);
    clients.push(client);
    return client;
  }

  it('gives a call that arrives without a deadline the default budget, then DEADLINE_EXCEEDED', async () => {
    const client = clientOf(shortDefault);
    // The first call verifies the token; the second starts synchronously from the remembered
    // caller and only then waits for its handler: both are cut off at the budget.
    for (const attempt of ['verified', 'remembered']) {
      const started = Date.now();
      const { details, status } = await expectGrpcError(
        rawProbe(client, SLOW, { metadata: bearer(token) }),
        GrpcStatus.DEADLINE_EXCEEDED,
      );
      const elapsed = Date.now() - started;
      expect({ attempt, elapsed: elapsed < 1_500 && elapsed >= 250 }).toEqual({
        attempt,
        elapsed: true,
      });
      // The client set no deadline, so this status can only have come from the server's cap.
      expect(shortDefault.observations.deadlines.at(-1)).toBe(Infinity);
      expect(details).toBe('deadline of 300 ms exceeded');
      expect(status?.errorInfo).toMatchObject({
        reason: 'DEADLINE_EXCEEDED',
        domain: PROBE_DOMAIN,
      });
    }
  });

  it('honours a client deadline longer than the default budget', async () => {
    const client = clientOf(shortDefault);
    await expect(
      rawProbe(
        client,
        { message: 'in time', behaviour: 'slow', delayMs: 700 },
        {
          metadata: bearer(token),
          deadline: new Date(Date.now() + 5_000),
        },
      ),
    ).resolves.toMatchObject({ message: 'in time' });
  });

  it('cuts a client deadline longer than the maximum down to the maximum', async () => {
    const client = clientOf(shortMax);
    const started = Date.now();
    const { details, status } = await expectGrpcError(
      rawProbe(client, SLOW, { metadata: bearer(token), deadline: new Date(Date.now() + 60_000) }),
      GrpcStatus.DEADLINE_EXCEEDED,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1_500);
    expect(details).toBe('deadline of 300 ms exceeded');
    expect(status?.errorInfo).toMatchObject({ reason: 'DEADLINE_EXCEEDED', domain: PROBE_DOMAIN });
  });

  it('lets a slow call without a deadline finish when the policy allows it', async () => {
    const client = clientOf(generous);
    await expect(
      rawProbe(
        client,
        { message: 'unhurried', behaviour: 'slow', delayMs: 400 },
        { metadata: bearer(token) },
      ),
    ).resolves.toMatchObject({ message: 'unhurried' });
  });

  it('sends a deadline with every createGrpcClient call', async () => {
    const client = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: generous.address,
      credentials: plaintext(),
      token: () => token,
      defaultTimeoutMs: 200,
    });
    try {
      const started = Date.now();
      await expectGrpcError(client.api.probe(SLOW), GrpcStatus.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(1_500);
      const defaultDeadline = generous.observations.deadlines.at(-1);
      expect(defaultDeadline).toBeGreaterThan(started);
      expect(defaultDeadline).toBeLessThanOrEqual(started + 200 + 50);

      const before = Date.now();
      await client.api.probe({ message: 'quick', behaviour: '', delayMs: 0 }, { timeoutMs: 4_000 });
      const perCallDeadline = generous.observations.deadlines.at(-1);
      expect(perCallDeadline).toBeGreaterThan(before + 3_000);
      expect(perCallDeadline).toBeLessThanOrEqual(Date.now() + 4_000 + 50);
    } finally {
      client.close();
    }
  });
});
