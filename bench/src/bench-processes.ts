// What the benches that run processes share: starting and stopping them, reading a service's
// gRPC outcome counters, and undoing what a bench set up.
import path from 'node:path';
import { WORKSPACE_ROOT, spawnNodeProcess, type ServiceProcess } from '@cinode/testing';

/** BENCH_PROFILE_DIR=/some/dir: the services write V8 CPU profiles there when they stop. */
export function profiling(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}

/** A TypeScript file of this directory as a process of its own (through bench/run.mjs --child). */
export function spawnBenchProcess(file: string, env: Record<string, string>): ServiceProcess {
  return spawnNodeProcess(
    [
      ...profiling(),
      path.join(WORKSPACE_ROOT, 'bench', 'run.mjs'),
      '--child',
      path.join(__dirname, file),
    ],
    env,
  );
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
export async function stopProcess(proc: ServiceProcess): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await proc.exited;
  clearTimeout(timer);
}

/** Calls of one method by status code, from a service's /metrics. */
export async function handledByCode(
  metricsPort: number,
  method: string,
): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('grpc_server_handled_total{')) continue;
    if (!line.includes(`grpc_method="${method}"`)) continue;
    const code = /grpc_code="([A-Z_]+)"/.exec(line)?.[1] ?? '?';
    counts.set(code, (counts.get(code) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** The calls counted in `after` but not in `before` that did not end OK, e.g. ["3 x UNAVAILABLE"]. */
export function notOk(before: Map<string, number>, after: Map<string, number>): string[] {
  const problems: string[] = [];
  for (const [code, count] of after) {
    if (code === 'OK') continue;
    const added = count - (before.get(code) ?? 0);
    if (added > 0) problems.push(`${added} x ${code}`);
  }
  return problems;
}

/** Undoes what a bench set up, last first; a failing step is reported and the rest still run. */
export async function runCleanups(cleanups: Array<() => unknown>): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('cleanup failed:', error instanceof Error ? error.message : error);
    }
  }
}
