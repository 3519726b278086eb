import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The last lines a process wrote, kept so a failure can say why without flooding the log. */
export class LogTail {
  private readonly lines: string[] = [];

  constructor(private readonly size = 40) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  toString(): string {
    return this.lines.join('\n');
  }
}

/** Calls onLine for every complete line the stream emits. */
export function forEachLine(
  stream: NodeJS.ReadableStream | null,
  onLine: (line: string) => void,
): void {
  if (stream === null) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') onLine(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (pending.trim() !== '') onLine(pending);
    pending = '';
  });
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited; never rejects. */
export async function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/**
 * Sends `signal`, waits up to graceMs for the child to exit and kills it if it has not. The
 * children we start run in their own process group, so the whole group is signalled.
 */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (hasExited(child)) return;
  const exited = waitForExit(child);
  signalGroup(child, signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    signalGroup(child, 'SIGKILL');
    await exited;
  }
}

export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || hasExited(child)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Kills the child if this process exits without stopping it first (a crashed test run, an
 * uncaught exception), so no orphaned server keeps a port or a data directory busy.
 * Returns the function that removes the safeguard.
 */
export function killOnExit(child: ChildProcess): () => void {
  const kill = (): void => signalGroup(child, 'SIGKILL');
  process.once('exit', kill);
  return () => process.removeListener('exit', kill);
}

/** Finds an executable on PATH, like `command -v`. */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter((dir) => dir !== '');
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
