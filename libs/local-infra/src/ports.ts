import * as net from 'node:net';

export const LOOPBACK_HOST = '127.0.0.1';

/** Asks the kernel for a free TCP port on the loopback interface. */
export async function findFreePort(host: string = LOOPBACK_HOST): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port the kernel picked on ${host}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** True when nothing listens on host:port and we may bind it. */
export async function isPortFree(port: number, host: string = LOOPBACK_HOST): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True when a TCP connection to host:port succeeds within timeoutMs. */
export async function canConnect(
  port: number,
  host: string = LOOPBACK_HOST,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
