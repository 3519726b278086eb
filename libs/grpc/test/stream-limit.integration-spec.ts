import http2 from 'node:http2';
import { once } from 'node:events';
import { credentials, type Client } from '@grpc/grpc-js';
import { PEER_CONNECTIONS, createGrpcClient } from '@cinode/grpc';
import type { ProbeServiceClient } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { bearer, createTestAuth } from '@cinode/testing';
import {
  PROBE_SERVICE,
  rawClient,
  rawProbe,
  startProbeServer,
  withTimeout,
  type ProbeServer,
} from './probe-server';

const LIMIT = 16;
const CALLS = 3 * LIMIT;
const HANDLER_MS = 300;

/**
 * GRPC_MAX_CONCURRENT_STREAMS: a service tells each connection how many calls it may have open at
 * once, and a client with more queues them itself, so none is refused and the service never runs
 * more of one connection's calls at a time than that.
 */
describe('the stream limit per connection', () => {
  let server: ProbeServer;
  let client: Client;
  let token: string;

  beforeAll(async () => {
    const auth = await createTestAuth();
    token = await auth.token(['service'], 'stream-limit-tester');
    server = await startProbeServer(auth, { GRPC_MAX_CONCURRENT_STREAMS: String(LIMIT) });
    client = rawClient(server.address);
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('is 64 unless configured', async () => {
    const auth = await createTestAuth();
    const defaults = await startProbeServer(auth);
    try {
      expect(defaults.config.GRPC_MAX_CONCURRENT_STREAMS).toBe(64);
      expect(await advertisedLimit(defaults.address)).toBe(64);
    } finally {
      await defaults.stop();
    }
  });

  it('is advertised in the HTTP/2 settings of every connection', async () => {
    expect(await advertisedLimit(server.address)).toBe(LIMIT);
  });

  it('holds a client with more calls back instead of refusing them', async () => {
    const started = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: CALLS }, (_, i) =>
        rawProbe(
          client,
          { message: `call ${i}`, behaviour: 'slow', delayMs: HANDLER_MS },
          { metadata: bearer(token), deadline: new Date(Date.now() + 20_000) },
        ),
      ),
    );
    const elapsed = performance.now() - started;
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.message : ''))).toEqual(
      Array.from({ length: CALLS }, (_, i) => `call ${i}`),
    );
    // All of them at once would take one handler's time; LIMIT at a time, three of them.
    expect(elapsed).toBeGreaterThanOrEqual((CALLS / LIMIT) * HANDLER_MS - 50);
  });
});

describe('a client over several connections', () => {
  let server: ProbeServer;
  let token: string;

  beforeAll(async () => {
    const auth = await createTestAuth();
    token = await auth.token(['service'], 'connections-tester');
    server = await startProbeServer(auth);
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** The connections `calls` Probe calls of a new client with `connections` came over. */
  async function connectionsUsed(connections: number | undefined, calls: number): Promise<number> {
    const client = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
      address: server.address,
      credentials: credentials.createInsecure(),
      token: () => token,
      connections,
    });
    try {
      const from = server.observations.peers.length;
      await Promise.all(
        Array.from({ length: calls }, (_, i) =>
          client.api.probe({ message: `m${i}`, behaviour: '', delayMs: 0 }),
        ),
      );
      return new Set(server.observations.peers.slice(from)).size;
    } finally {
      client.close();
    }
  }

  it('spreads its unary calls over the connections it was given, one after the other', async () => {
    expect(await connectionsUsed(undefined, 6)).toBe(1);
    expect(await connectionsUsed(PEER_CONNECTIONS, 2 * PEER_CONNECTIONS)).toBe(PEER_CONNECTIONS);
  });
});

/** SETTINGS_MAX_CONCURRENT_STREAMS as the service sends it to a new connection. */
async function advertisedLimit(address: string): Promise<number | undefined> {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  try {
    const [settings] = (await withTimeout(
      once(session, 'remoteSettings'),
      5_000,
      'the server settings',
    )) as [http2.Settings];
    return settings.maxConcurrentStreams;
  } finally {
    session.destroy();
  }
}
