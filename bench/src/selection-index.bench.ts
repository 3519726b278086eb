// `npm run bench -- selection-index`: compute selection's offer index against a full scan of the
// same pools, in process (issue 8): 100,000 random pools, 500 dedicated lines between their sites and
// 1,000 random demands. Every demand must
// get identical answers from both (candidates, scores, matched count, eliminations), and the index
// must be at least 10x faster per query. Both sides run the same demands in alternating rounds,
// so machine noise lands on both; the ratio of their median per-query times is judged. The heap
// the index holds is printed too (the service's RSS target is for the running service).
import { performance } from 'node:perf_hooks';
import { seededRandom } from '@cinode/common';
import {
  LatencyModel,
  LineTable,
  OfferIndex,
  checkSelectRequest,
  randomDemand,
  randomLine,
  randomPool,
  selectByScan,
  type SelectionResult,
} from '@cinode/selection';
import { benchScale, mib, runBench } from './harness';

/** Fixed by issue 8: the index at least 10x faster than a full scan per query. */
const SPEEDUP_MIN = 10;
const POOLS = 100_000;
const LINES = 500;
const DEMANDS = 1_000;
const ROUNDS = 3;

function fingerprint(result: SelectionResult): string {
  return JSON.stringify({
    matched: result.matched,
    considered: result.considered,
    eliminations: [...result.eliminations].sort(),
    candidates: result.candidates.map((c) => [
      c.offer.poolId,
      c.score,
      c.priceFenPerHour,
      c.path,
      c.line?.lineId,
    ]),
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<boolean> {
  const scale = benchScale();
  const demandsCount = Math.max(100, Math.round(DEMANDS * scale));
  const random = seededRandom(8_2026);
  const latency = new LatencyModel({
    sameRegionMs: 2,
    sameProvinceMs: 5,
    defaultMs: 35,
    provincePairs: new Map([
      ['31-11', 28],
      ['11-31', 28],
    ]),
  });

  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const buffersBefore = process.memoryUsage().arrayBuffers;
  const index = new OfferIndex();
  for (let i = 0; i < POOLS; i += 1) index.apply(randomPool(random, i));
  // As compute selection does once it has loaded every pool.
  index.compact();
  global.gc?.();
  const heapIndex = process.memoryUsage().heapUsed - heapBefore;
  // The cells' rows are typed arrays, held outside the heap.
  const rowsIndex = process.memoryUsage().arrayBuffers - buffersBefore;
  // A generator of their own, so the pools and demands are those of earlier runs.
  const lineRandom = seededRandom(500);
  const lines = new LineTable();
  for (let i = 0; i < LINES; i += 1) lines.apply(randomLine(lineRandom, i));

  const demands = Array.from({ length: demandsCount }, (_, i) => {
    const raw = randomDemand(random);
    if (i % 4 === 0) {
      raw.maxLatencyMs = 1 + Math.floor(random() * 40);
      if (raw.userRegionCode === '') raw.userRegionCode = '310000';
      if (i % 8 === 0) raw.userSite = `site-${Math.floor(lineRandom() * 200)}`;
    }
    return checkSelectRequest(raw, undefined, 10);
  });
  const offers = [...index.all()];

  // 1. Identical answers for every demand.
  let mismatches = 0;
  let linePaths = 0;
  for (const { demand, weights, topK } of demands) {
    const fromIndex = index.select(demand, weights, topK, latency, lines);
    linePaths += fromIndex.candidates.filter((c) => c.path === 'line').length;
    const a = fingerprint(fromIndex);
    const b = fingerprint(selectByScan(offers, demand, weights, topK, latency, lines));
    if (a !== b) mismatches += 1;
  }

  // 2. Time per query, alternating rounds of the two sides over all demands.
  const indexRounds: number[] = [];
  const scanRounds: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const sides: Array<[number[], () => void]> = [
      [
        indexRounds,
        () => {
          for (const d of demands) index.select(d.demand, d.weights, d.topK, latency, lines);
        },
      ],
      [
        scanRounds,
        () => {
          for (const d of demands)
            selectByScan(offers, d.demand, d.weights, d.topK, latency, lines);
        },
      ],
    ];
    if (round % 2 === 1) sides.reverse();
    for (const [times, run] of sides) {
      const started = performance.now();
      run();
      times.push(((performance.now() - started) * 1000) / demands.length);
    }
  }
  const indexUs = median(indexRounds);
  const scanUs = median(scanRounds);
  const speedup = scanUs / indexUs;

  console.log(
    `== selection-index: ${POOLS} pools, ${LINES} lines, ${demands.length} demands, ${ROUNDS} alternating rounds`,
  );
  console.log(`candidates reached through a dedicated line: ${linePaths}`);
  console.log(
    `index  per query: median ${indexUs.toFixed(1)} us (rounds ${indexRounds.map((t) => t.toFixed(0)).join(' ')})`,
  );
  console.log(
    `scan   per query: median ${scanUs.toFixed(1)} us (rounds ${scanRounds.map((t) => t.toFixed(0)).join(' ')})`,
  );
  console.log(`index heap: ${mib(heapIndex)} and rows ${mib(rowsIndex)} for ${POOLS} pools`);
  const identical = mismatches === 0;
  console.log(
    `target: identical answers for every demand ... ${mismatches} of ${demands.length} differ ... ${identical ? 'PASS' : 'FAIL'}`,
  );
  const fastEnough = speedup >= SPEEDUP_MIN;
  console.log(
    `target: index speed-up over a full scan >= ${SPEEDUP_MIN.toFixed(1)} ... measured ${speedup.toFixed(1)} ... ${fastEnough ? 'PASS' : 'FAIL'}`,
  );
  return identical && fastEnough;
}

runBench('selection-index', 170_000, main);
