import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { waitForGrpcServing } from '@cinode/local-infra';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');

/** Path of a built service's entry point; tests that run services as processes use what `npm run build` produced. */
export function serviceEntry(service: string): string {
  const entry = join(WORKSPACE_ROOT, 'dist/services', service, 'src/main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does it for you)`);
  }
  return entry;
}

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

export function spawnService(
  service: string,
  env: Record<string, string>,
  args: string[] = [],
): ServiceProcess {
  return spawnNodeProcess([serviceEntry(service), ...args], env);
}

/** Processes started here and still running: killed if this process exits first. */
const running = new Set<ChildProcess>();
let reaping = false;

/**
 * A test or bench that exits without stopping what it started (a watchdog's process.exit, an
 * uncaught error) must not leave services behind holding ports and CPU: SIGKILL them on the way out.
 */
function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (reaping) return;
  reaping = true;
  process.once('exit', () => {
    for (const orphan of running) orphan.kill('SIGKILL');
  });
}

/**
 * A node process (node's own options, then the entry and its arguments) from the workspace root,
 * with this environment only (plus PATH and NODE_ENV=test), its output kept for failure messages.
 */
export function spawnNodeProcess(args: string[], env: Record<string, string>): ServiceProcess {
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  reapOnExit(child);
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );
  return { child, output: () => output, exited };
}

/**
 * Waits until the service answers SERVING, failing at once (with its output) if it exits. Asks in
 * plaintext unless given the credentials of a node running with TLS. With `grpcService` (one the
 * process serves) the health check names it: another process that took the port first (a free
 * port found by two test processes at once) then never passes for this one, which fails on the
 * taken port and exits, instead of the test calling a stranger that goes away later.
 */
export async function waitForServing(
  address: string,
  timeoutMs: number,
  proc: ServiceProcess,
  credentials?: ChannelCredentials,
  grpcService?: string,
): Promise<void> {
  const abort = new AbortController();
  void proc.exited.then(() => abort.abort());
  try {
    await waitForGrpcServing(address, {
      timeoutMs,
      signal: abort.signal,
      credentials,
      service: grpcService,
    });
  } catch (error) {
    throw new Error(`${String(error)}\n--- service output ---\n${proc.output()}`);
  }
}
