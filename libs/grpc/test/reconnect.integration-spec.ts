import { createServer, type Server, type Socket } from 'node:net';
import { MAX_RECONNECT_BACKOFF_MS, createGrpcClient } from '@cinode/grpc';
import type { ProbeServiceClient } from '@cinode/proto/gen/cinode/testing/v1/probe_service';
import { plaintext } from '@cinode/testing';
import { PROBE_SERVICE } from './probe-server';

/**
 * A peer that is away (every connection dropped at once, as a restarting process's port does)
 * is tried again at least every MAX_RECONNECT_BACKOFF_MS (plus grpc-js's 20 % jitter), however
 * long it has been away. grpc-js's own backoff grows past 10 s within half a minute and to 120 s,
 * and every call fails without trying meanwhile: the peer, once back, stays unreachable that long.
 */
describe('createGrpcClient reconnect backoff', () => {
  const RUN_MS = 30_000;
  let server: Server;
  let address: string;
  const attempts: number[] = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      attempts.push(Date.now());
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('no TCP address');
    address = `127.0.0.1:${bound.port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it(
    'tries a dropped peer again within the cap, not at a backoff grown to minutes',
    async () => {
      const client = createGrpcClient<ProbeServiceClient>(PROBE_SERVICE, {
        address,
        credentials: plaintext(),
        defaultTimeoutMs: 200,
      });
      const started = Date.now();
      try {
        // A caller that keeps asking, as a background loop does.
        while (Date.now() - started < RUN_MS) {
          await client.api
            .probe({ message: 'hello', behaviour: '', delayMs: 0 })
            .catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        client.close();
      }
      const ended = Date.now();
      const times = [started, ...attempts, ended];
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      // The cap with grpc-js's jitter (20 % of the capped delay), and time for the connection
      // attempt itself. Uncapped, the delays grow by 1.6x from 1 s, the jitter compounding: the
      // run's 30 s sees a gap well over this in all but a few runs in a thousand.
      expect(attempts.length).toBeGreaterThan(4);
      expect(Math.max(...gaps)).toBeLessThan(MAX_RECONNECT_BACKOFF_MS * 1.2 + 1_500);
    },
    RUN_MS + 15_000,
  );
});
