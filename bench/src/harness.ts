// A small benchmark harness. The machines that run it are shared and noisy (2 cores), so absolute
// figures mean little: every scenario times a candidate against a baseline in the same process,
// interleaving their rounds so that noise lands on both, and judges only the ratios.
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/** One side of a comparison: an async operation timed from call to settlement. */
export interface Side {
  name: string;
  op: () => Promise<unknown>;
  /**
   * Untimed work after each of this side's rounds (warm-up included), e.g. waiting until background
   * work its operations started (an outbox, a consumer) has finished, so that it does not land on
   * the next round, which may be another side's.
   */
  settle?: () => Promise<void>;
}

export interface LoadSettings {
  /** Operations in flight at once. */
  concurrency: number;
  /** Untimed operations per side before the first round (JIT, connections, caches). */
  warmupOps: number;
  /** Timed rounds per side; the sides alternate round by round. */
  rounds: number;
  /** Operations per round and side. */
  opsPerRound: number;
  /** A round starts no new operation after this long, however many it has done. */
  roundTimeLimitMs: number;
}

export interface Scenario {
  name: string;
  candidate: Side;
  baseline: Side;
  load: LoadSettings;
}

export interface RoundResult {
  latenciesMs: number[];
  elapsedMs: number;
}

export interface Summary {
  ops: number;
  /** Completed operations per second of round wall time. */
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export type Metric = 'throughput' | 'p50' | 'p95' | 'p99';
const METRICS: readonly Metric[] = ['throughput', 'p50', 'p95', 'p99'];

export interface ScenarioResult {
  scenario: string;
  concurrency: number;
  candidate: Summary;
  baseline: Summary;
  /** candidate / baseline for each metric (for throughput lower is worse, for latency higher is). */
  ratios: Record<Metric, number>;
  /** The p50 ratio of each round pair, to show how much the ratio moved during the run. */
  roundP50Ratios: number[];
  /** Highest RSS sampled after any round of this scenario. */
  peakRssBytes: number;
}

/** A bound on one ratio of one scenario; missing it fails the run. */
export interface Target {
  scenario: string;
  metric: Metric;
  /** The ratio must be at most this (latency) ... */
  max?: number;
  /** ... or at least this (throughput). */
  min?: number;
}

/** Scales every operation count, e.g. BENCH_SCALE=0.2 for a quick smoke run. */
export function benchScale(): number {
  const raw = process.env.BENCH_SCALE;
  const scale = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`BENCH_SCALE must be a positive number, not "${raw}"`);
  return scale;
}

/**
 * Runs `count` operations with at most `concurrency` in flight, stopping early (with fewer
 * latencies) once `timeLimitMs` has passed. The first failure stops new operations; the round then
 * waits for those in flight and rethrows it, so nothing is left running behind a failed bench.
 */
export async function runRound(
  op: () => Promise<unknown>,
  count: number,
  concurrency: number,
  timeLimitMs: number,
): Promise<RoundResult> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  const stopAt = started + timeLimitMs;
  let issued = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && issued < count && performance.now() < stopAt) {
      issued += 1;
      const t0 = performance.now();
      try {
        await op();
      } catch (error) {
        failed = true;
        throw error;
      }
      latenciesMs.push(performance.now() - t0);
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.max(1, concurrency) }, worker),
  );
  const rejection = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejection) throw rejection.reason;
  return { latenciesMs, elapsedMs: performance.now() - started };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(rounds: readonly RoundResult[]): Summary {
  const all = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const elapsedMs = rounds.reduce((sum, r) => sum + r.elapsedMs, 0);
  return {
    ops: all.length,
    throughput: elapsedMs > 0 ? (all.length * 1000) / elapsedMs : Number.NaN,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
    max: all.length ? all[all.length - 1] : Number.NaN,
  };
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

async function sideRound(side: Side, count: number, load: LoadSettings): Promise<RoundResult> {
  const result = await runRound(side.op, count, load.concurrency, load.roundTimeLimitMs);
  await side.settle?.();
  return result;
}

/**
 * Warms both sides up, then runs `rounds` rounds of each, alternating which side goes first
 * (A B, B A, A B, ...) so that drift in the machine's load and the GC debt one side leaves behind
 * fall on both equally.
 */
export async function compare(scenario: Scenario): Promise<ScenarioResult> {
  const { load, candidate, baseline } = scenario;
  const round = (side: Side, count: number) => sideRound(side, count, load);

  await round(candidate, load.warmupOps);
  await round(baseline, load.warmupOps);

  const results = { candidate: [] as RoundResult[], baseline: [] as RoundResult[] };
  let peakRssBytes = process.memoryUsage().rss;
  for (let i = 0; i < load.rounds; i += 1) {
    const order =
      i % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
    for (const which of order) {
      results[which].push(await round(scenario[which], load.opsPerRound));
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
    }
  }

  const c = summarize(results.candidate);
  const b = summarize(results.baseline);
  const ratios = Object.fromEntries(METRICS.map((m) => [m, c[m] / b[m]])) as Record<Metric, number>;
  const roundP50Ratios = results.candidate.map(
    (r, i) => median(r.latenciesMs) / median(results.baseline[i].latenciesMs),
  );
  return {
    scenario: scenario.name,
    concurrency: load.concurrency,
    candidate: c,
    baseline: b,
    ratios,
    roundP50Ratios,
    peakRssBytes,
  };
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

/**
 * Resident set size and live heap now, after a full GC when node runs with --expose-gc (bench/run.mjs
 * does). RSS rarely shrinks once the heap has grown, so heapUsed is what tells retained objects
 * (a leak) from a high-water mark.
 */
export function memory(): MemorySample {
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col < 2 ? cell.padEnd(widths[col]) : cell.padStart(widths[col])))
        .join('  '),
    )
    .join('\n');
}

const ms = (value: number) => value.toFixed(3);

function printHeader(title: string): void {
  const load = loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');
  console.log(`\n== ${title}`);
  console.log(
    `node ${process.version}, ${cpus().length} cpus, load average ${load} (noise: read the ratios, not the figures)\n`,
  );
}
const ratio = (value: number) => `${value.toFixed(2)}x`;

/** The results table, the ratios, and one verdict line per target. */
export function report(
  title: string,
  results: readonly ScenarioResult[],
  targets: readonly Target[],
): boolean {
  const rows = [['scenario', 'side', 'ops', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']];
  for (const r of results) {
    for (const [side, s] of [
      ['candidate', r.candidate],
      ['baseline', r.baseline],
    ] as const) {
      rows.push([
        r.scenario,
        side,
        String(s.ops),
        s.throughput.toFixed(0),
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.max),
      ]);
    }
    rows.push([
      r.scenario,
      'ratio c/b',
      '',
      ratio(r.ratios.throughput),
      ratio(r.ratios.p50),
      ratio(r.ratios.p95),
      ratio(r.ratios.p99),
      '',
    ]);
  }
  printHeader(title);
  console.log(table(rows));
  console.log('');
  for (const r of results) {
    const spread = r.roundP50Ratios.map((v) => v.toFixed(2)).join(' ');
    console.log(
      `${r.scenario}: p50 ratio per round pair: ${spread}; peak RSS ${mib(r.peakRssBytes)}`,
    );
  }
  console.log('');

  let pass = true;
  for (const target of targets) {
    const result = results.find((r) => r.scenario === target.scenario);
    const measured = result?.ratios[target.metric];
    pass = checkTarget(`${target.scenario} ${target.metric} ratio`, measured, target) && pass;
  }
  return pass;
}

/** Prints one verdict line and says whether the measured ratio is within the bounds. */
function checkTarget(
  label: string,
  measured: number | undefined,
  bounds: { max?: number; min?: number },
): boolean {
  const checks: string[] = [];
  let ok = measured !== undefined && Number.isFinite(measured);
  if (bounds.max !== undefined) {
    checks.push(`<= ${bounds.max.toFixed(2)}`);
    ok &&= measured !== undefined && measured <= bounds.max;
  }
  if (bounds.min !== undefined) {
    checks.push(`>= ${bounds.min.toFixed(2)}`);
    ok &&= measured !== undefined && measured >= bounds.min;
  }
  const seen = measured === undefined ? 'not measured' : `measured ${measured.toFixed(2)}`;
  console.log(`target: ${label} ${checks.join(' and ')} ... ${seen} ... ${ok ? 'PASS' : 'FAIL'}`);
  return ok;
}

// More than two sides: a candidate judged against several baselines, or against the sum of the
// baselines it is built from (one RPC plus one SELECT, say), all timed in the same run.

/** Several sides timed in the same rounds, under the same load settings. */
export interface MultiScenario {
  name: string;
  sides: Side[];
  load: LoadSettings;
}

export interface SideResult {
  name: string;
  summary: Summary;
  /** The p50 of each of its rounds, in round order. */
  roundP50s: number[];
}

export interface MultiScenarioResult {
  scenario: string;
  concurrency: number;
  sides: SideResult[];
  /** Highest RSS sampled after any round of this scenario. */
  peakRssBytes: number;
}

/**
 * The order of the sides in round `round`: rotated by one every two rounds and reversed in odd
 * rounds (A B C D, D C B A, B C D A, A D C B, ...), so over 2n rounds each of n sides runs in each
 * place equally often and after different neighbours.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2) % Math.max(1, items.length);
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return round % 2 === 0 ? rotated : rotated.reverse();
}

/** Like compare, for any number of sides: warm-up of each, then interleaved rounds (roundOrder). */
export async function compareAll(scenario: MultiScenario): Promise<MultiScenarioResult> {
  const { load, sides } = scenario;
  if (new Set(sides.map((s) => s.name)).size !== sides.length)
    throw new Error(`${scenario.name}: side names must be unique`);
  for (const side of sides) await sideRound(side, load.warmupOps, load);

  const rounds = new Map<Side, RoundResult[]>(sides.map((side) => [side, []]));
  let peakRssBytes = process.memoryUsage().rss;
  for (let i = 0; i < load.rounds; i += 1) {
    for (const side of roundOrder(sides, i)) {
      rounds.get(side)?.push(await sideRound(side, load.opsPerRound, load));
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss);
    }
  }
  return {
    scenario: scenario.name,
    concurrency: load.concurrency,
    sides: sides.map((side) => {
      const own = rounds.get(side) ?? [];
      return {
        name: side.name,
        summary: summarize(own),
        roundP50s: own.map((r) => median(r.latenciesMs)),
      };
    }),
    peakRssBytes,
  };
}

/**
 * candidate / baseline, where the baseline may be the sum of several sides (a name may repeat):
 * their latencies add up and their throughputs compose as 1 / sum(1 / t), i.e. as if each
 * operation did one after the other.
 */
export interface Comparison {
  candidate: string;
  baseline: string[];
}

export function comparisonLabel(comparison: Comparison): string {
  const { candidate, baseline } = comparison;
  return baseline.length === 1
    ? `${candidate}/${baseline[0]}`
    : `${candidate}/(${baseline.join(' + ')})`;
}

function sideNamed(result: MultiScenarioResult, name: string): SideResult {
  const side = result.sides.find((s) => s.name === name);
  if (!side) throw new Error(`${result.scenario} has no side named ${name}`);
  return side;
}

function composed(values: readonly number[], metric: Metric): number {
  return metric === 'throughput'
    ? 1 / values.reduce((sum, v) => sum + 1 / v, 0)
    : values.reduce((sum, v) => sum + v, 0);
}

export function comparisonRatio(
  result: MultiScenarioResult,
  comparison: Comparison,
  metric: Metric,
): number {
  const candidate = sideNamed(result, comparison.candidate).summary[metric];
  const baseline = composed(
    comparison.baseline.map((name) => sideNamed(result, name).summary[metric]),
    metric,
  );
  return candidate / baseline;
}

/** The p50 ratio of each round (the sides' i-th rounds), to show how much it moved during the run. */
export function comparisonRoundP50Ratios(
  result: MultiScenarioResult,
  comparison: Comparison,
): number[] {
  const candidate = sideNamed(result, comparison.candidate).roundP50s;
  const baselines = comparison.baseline.map((name) => sideNamed(result, name).roundP50s);
  return candidate.map(
    (p50, i) =>
      p50 /
      composed(
        baselines.map((b) => b[i]),
        'p50',
      ),
  );
}

/** A bound on one comparison's ratio in one scenario; missing it fails the run. */
export interface ComparisonTarget {
  scenario: string;
  comparison: Comparison;
  metric: Metric;
  max?: number;
  min?: number;
}

/** The table of every side, the ratio of every comparison, and one verdict line per target. */
export function reportAll(
  title: string,
  results: readonly MultiScenarioResult[],
  comparisons: readonly Comparison[],
  targets: readonly ComparisonTarget[],
): boolean {
  const rows = [['scenario', 'side', 'ops', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']];
  for (const r of results) {
    for (const { name, summary: s } of r.sides) {
      rows.push([
        r.scenario,
        name,
        String(s.ops),
        s.throughput.toFixed(0),
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        ms(s.max),
      ]);
    }
    for (const c of comparisons) {
      rows.push([
        r.scenario,
        `ratio ${comparisonLabel(c)}`,
        '',
        ...(['throughput', 'p50', 'p95', 'p99'] as const).map((m) =>
          ratio(comparisonRatio(r, c, m)),
        ),
        '',
      ]);
    }
  }
  printHeader(title);
  console.log(table(rows));
  console.log('');
  for (const r of results) {
    console.log(`${r.scenario}: peak RSS ${mib(r.peakRssBytes)}; p50 ratio per round:`);
    for (const c of comparisons) {
      const spread = comparisonRoundP50Ratios(r, c)
        .map((v) => v.toFixed(2))
        .join(' ');
      console.log(`  ${comparisonLabel(c)}: ${spread}`);
    }
  }
  console.log('');

  let pass = true;
  for (const target of targets) {
    const result = results.find((r) => r.scenario === target.scenario);
    const measured = result ? comparisonRatio(result, target.comparison, target.metric) : undefined;
    const label = `${target.scenario} ${comparisonLabel(target.comparison)} ${target.metric} ratio`;
    pass = checkTarget(label, measured, target) && pass;
  }
  return pass;
}

/**
 * Entry point of a bench file: runs main under a hard time limit (a hung server or call fails the
 * run rather than stalling it) and turns a missed target or an error into a non-zero exit code.
 */
export function runBench(name: string, timeLimitMs: number, main: () => Promise<boolean>): void {
  const watchdog = setTimeout(() => {
    console.error(`${name}: still running after ${timeLimitMs} ms; giving up`);
    process.exit(2);
  }, timeLimitMs);
  // The watchdog must not by itself keep a finished bench alive; anything else still open will.
  watchdog.unref();
  main()
    .then((pass) => {
      console.log(`${name}: ${pass ? 'PASS' : 'FAIL (a target was missed)'}`);
      process.exitCode = pass ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(
        `${name}: ERROR`,
        error instanceof Error ? (error.stack ?? error.message) : error,
      );
      process.exitCode = 1;
    });
}
