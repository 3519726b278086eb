import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { findExecutable, forEachLine, killOnExit, LogTail, stopChild } from './child-process';
import { findFreePort, isPortFree, LOOPBACK_HOST } from './ports';

export interface NatsServerOptions {
  /** JetStream store directory (nats-server -sd); created if missing. */
  storeDir: string;
  /** Defaults to a free loopback port. */
  port?: number;
  /** Defaults to `nats-server` found on PATH. */
  binary?: string;
  /** When false, stop() deletes storeDir. */
  persistent?: boolean;
  onLog?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface StartedNats {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export const NATS_INSTALL_HINT =
  'install nats-server: `apt-get install -y nats-server` on Debian/Ubuntu, `brew install nats-server` on macOS, ' +
  'or a release binary from https://github.com/nats-io/nats-server/releases on your PATH';

export function findNatsServer(): string | undefined {
  return findExecutable('nats-server');
}

/** Starts `nats-server -js` on loopback and resolves once it accepts client connections. */
export async function startNatsServer(options: NatsServerOptions): Promise<StartedNats> {
  const binary = options.binary ?? findNatsServer();
  if (binary === undefined) throw new Error(`nats-server is not on PATH; ${NATS_INSTALL_HINT}`);
  const port = options.port ?? (await findFreePort());
  if (!(await isPortFree(port))) {
    throw new Error(`cannot start nats-server: ${LOOPBACK_HOST}:${port} is already in use`);
  }
  const storeDir = path.resolve(options.storeDir);
  fs.mkdirSync(storeDir, { recursive: true });
  const onLog = options.onLog ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 15_000;

  const child = spawn(
    binary,
    ['-js', '-a', LOOPBACK_HOST, '-p', String(port), '-sd', storeDir, '-n', `cinode-${port}`],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const removeExitGuard = killOnExit(child);
  const tail = new LogTail();
  const onLine = (line: string): void => {
    tail.push(line);
    onLog(line);
  };
  forEachLine(child.stdout, onLine);
  forEachLine(child.stderr, onLine);

  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `nats-server exited during start-up (${signal ?? `code ${code}`}):\n${tail.toString()}`,
        ),
      ),
    );
  });
  failed.catch(() => undefined);

  try {
    await Promise.race([waitForNatsInfo(port, timeoutMs), failed]);
  } catch (error: unknown) {
    await stopChild(child, 'SIGKILL', 5000);
    removeExitGuard();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `nats://${LOOPBACK_HOST}:${port}`,
    port,
    stop: () => {
      stopped ??= (async () => {
        await stopChild(child, 'SIGTERM', 15_000);
        removeExitGuard();
        if (options.persistent === false)
          await fs.promises.rm(storeDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Resolves once the server greets a client with its INFO line, which it sends only when ready. */
async function waitForNatsInfo(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await readsInfo(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `nats-server on ${LOOPBACK_HOST}:${port} did not accept connections within ${timeoutMs} ms`,
  );
}

async function readsInfo(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: LOOPBACK_HOST, port });
    let received = '';
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (received.startsWith('INFO ')) done(true);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
