import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface CommandResult {
  /** Exit code, or null when the process was killed (its timeout, or a signal). */
  code: number | null;
  /** stdout and stderr interleaved, with a note when the timeout killed it. */
  output: string;
  stdout: string;
  seconds: number;
}

export interface StartedProcess {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  exited: Promise<number | null>;
}

export interface ProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Every process started here and not yet exited, so a failing test still leaves none behind. */
const live = new Set<ChildProcess>();

/**
 * Starts a process in a process group of its own: tools such as npx and jest start children, and
 * a timeout or the final cleanup must reach them too.
 */
export function start(
  command: string,
  args: readonly string[],
  options: ProcessOptions,
): StartedProcess {
  let output = '';
  let stdout = '';
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      output += `\n${String(error)}`;
      live.delete(child);
      resolve(null);
    });
    child.once('close', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  return { child, output: () => output, stdout: () => stdout, exited };
}

/** Runs a command to its end, killing its process group once `timeoutMs` has passed. */
export async function run(
  command: string,
  args: readonly string[],
  options: ProcessOptions & { timeoutMs: number },
): Promise<CommandResult> {
  const started = performance.now();
  const proc = start(command, args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(proc.child, 'SIGKILL');
  }, options.timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  const note = timedOut ? `\n[${command} killed after ${options.timeoutMs} ms]` : '';
  return {
    code,
    output: proc.output() + note,
    stdout: proc.stdout(),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Stops a started process with SIGTERM and resolves with its exit code. */
export async function stop(proc: StartedProcess, graceMs = 10_000): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
  signalGroup(proc.child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(proc.child, 'SIGKILL'), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

/** Kills whatever is still running; for afterAll. */
export async function killAll(): Promise<void> {
  const waiting = [...live].map(
    (child) => new Promise<void>((resolve) => child.once('close', () => resolve())),
  );
  for (const child of live) signalGroup(child, 'SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(waiting),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000))),
  ]);
  clearTimeout(timer);
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}
