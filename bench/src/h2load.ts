// Driving gRPC servers with h2load (Debian package nghttp2-client): a load generator in C, so the
// client is never what saturates first, as a grpc-js client in the bench's own process would be.
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface H2loadRun {
  /** Requests finished in the measured period. */
  requests: number;
  /** Requests per second h2load reports for the measured period. */
  throughput: number;
  /** Latencies in milliseconds of each request of the measured period, ascending. */
  latenciesMs: number[];
  /** Responses that were not HTTP 200 or did not finish. */
  failed: number;
}

export interface H2loadLoad {
  /** Connections (h2load -c). */
  connections: number;
  /** Concurrent streams per connection (h2load -m). */
  streams: number;
  /** Measured seconds (h2load -D), after warmUpSeconds of unmeasured load. */
  seconds: number;
  warmUpSeconds: number;
  /** Requests per second per connection (h2load --rps); unset: as fast as the server answers. */
  rpsPerConnection?: number;
}

/** The body of a unary gRPC request: uncompressed flag, big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

/** Whether h2load is on the PATH. */
export async function h2loadAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('h2load', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** The value at quantile q (0..1) of ascending values. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Runs h2load once against `url` (http://host:port/package.Service/Method) with `body` (a gRPC
 * frame) and the given headers, and reads back its figures and every request's latency (from its
 * per-request log). h2load counts HTTP statuses only: a gRPC error is HTTP 200 with a grpc-status
 * trailer, so callers check the server's own counters for the outcome of each call.
 */
export async function runH2load(
  workDir: string,
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  load: H2loadLoad,
): Promise<H2loadRun> {
  const bodyFile = path.join(workDir, `body-${process.pid}.bin`);
  const logFile = path.join(workDir, `requests-${process.pid}.log`);
  await writeFile(bodyFile, body);
  await rm(logFile, { force: true });
  const args = [
    '-c',
    String(load.connections),
    '-m',
    String(load.streams),
    '-t',
    '1',
    '-D',
    String(load.seconds),
    '--warm-up-time',
    String(load.warmUpSeconds),
    '-d',
    bodyFile,
    '--log-file',
    logFile,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    ...(load.rpsPerConnection ? ['--rps', String(load.rpsPerConnection)] : []),
    url,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    let text = '';
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const watchdog = setTimeout(
      () => child.kill('SIGKILL'),
      (load.seconds + load.warmUpSeconds + 30) * 1000,
    );
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(watchdog);
      if (code === 0) resolve(text);
      else reject(new Error(`h2load exited with ${code}:\n${text}`));
    });
  });
  const finished = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(output);
  const counts =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      output,
    );
  if (!finished || !counts) throw new Error(`cannot read h2load's output:\n${output}`);
  const lines = (await readFile(logFile, 'utf8')).split('\n').filter((line) => line !== '');
  let failed = Number(counts[5]) + Number(counts[6]) + Number(counts[7]);
  const latenciesMs: number[] = [];
  for (const line of lines) {
    const [, status, micros] = line.split('\t');
    // Status 0: still in flight when the measured period ended (h2load stops every client then).
    if (status === '0') continue;
    if (status !== '200') failed += 1;
    else latenciesMs.push(Number(micros) / 1000);
  }
  latenciesMs.sort((a, b) => a - b);
  await rm(logFile, { force: true });
  return { requests: Number(counts[3]), throughput: Number(finished[1]), latenciesMs, failed };
}
