import type { DemandSpec } from './demand';
import type { LineOffer, SiteLines } from './line-table';
import {
  CONSTRAINTS,
  carbonOf,
  lineAmong,
  type Constraint,
  type Match,
  type MatchList,
  type RegionPath,
} from './matcher';
import type { Offer } from './offer';

/*
 * What matching reads of a pool, as numbers, one row per pool in a cell (see `Cell`): the row of a
 * pool in a model's bucket holds that model's cards, card price and origin; in a class bucket (no
 * model asked) the card columns hold what `evaluate` reads when no accelerator is asked for. Plain
 * module constants, so the compiler folds the offsets into the loop.
 */
const RENEWABLE = 0;
const CARDS = 1;
const CPU = 2;
const MEMORY = 3;
const STORAGE = 4;
const FP16 = 5;
const FP32 = 6;
const DOWNLINK = 7;
const CARD_PRICE = 8;
const CPU_PRICE = 9;
const MEMORY_PRICE = 10;
const STORAGE_PRICE = 11;
/** 1 when the accelerators that count for domestic_only are all domestic. */
const DOMESTIC = 12;
/** The pool's site, as its number in the index's `SiteNumbers`. */
const SITE = 13;
/** What ranking reads: compute efficiency and carbon efficiency (renewable share per unit of PUE). */
const GFLOPS = 14;
const CARBON = 15;
const STRIDE = 16;

const INITIAL_CAPACITY = 8;

/**
 * The selectable pools of one bucket, region and security level: their offers and, row by row in
 * one Float64Array, the numbers the constraints compare, so a demand's pass over a cell reads
 * consecutive memory instead of chasing each offer's objects. Rows are unordered (ranking does not
 * depend on the order of matches); a removal moves the last row into the gap.
 */
export class Cell {
  length = 0;
  offers: Offer[] = [];
  rows = new Float64Array(INITIAL_CAPACITY * STRIDE);
  private readonly slots = new Map<Offer, number>();

  /** Adds the offer; `model` is the bucket's accelerator model, "" for a class bucket. */
  add(offer: Offer, model: string, site: number): void {
    if (this.length * STRIDE === this.rows.length) {
      const grown = new Float64Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    const at = this.length;
    this.offers[at] = offer;
    this.slots.set(offer, at);
    writeRow(this.rows, at * STRIDE, offer, model, site);
    this.length += 1;
  }

  /** Trims the rows to what the cell holds (at least the initial room). */
  compact(): void {
    const needed = Math.max(INITIAL_CAPACITY, this.length) * STRIDE;
    if (this.rows.length > needed) this.rows = this.rows.slice(0, needed);
  }

  /** Removes the offer if it is here; true when it was. */
  delete(offer: Offer): boolean {
    const at = this.slots.get(offer);
    if (at === undefined) return false;
    this.slots.delete(offer);
    const last = this.length - 1;
    if (at !== last) {
      const moved = this.offers[last];
      this.offers[at] = moved;
      this.slots.set(moved, at);
      this.rows.copyWithin(at * STRIDE, last * STRIDE, last * STRIDE + STRIDE);
    }
    this.offers.pop();
    this.length = last;
    // Give memory back once a cell has shrunk to a quarter of its room.
    if (
      this.rows.length > INITIAL_CAPACITY * STRIDE &&
      this.length * STRIDE * 4 <= this.rows.length
    )
      this.rows = this.rows.slice(0, this.rows.length / 2);
    return true;
  }
}

function writeRow(
  rows: Float64Array,
  base: number,
  offer: Offer,
  model: string,
  site: number,
): void {
  // As `evaluate` reads them: the first accelerator of the model, its kind's cards and price; with
  // no model asked, the GPU price (times no cards) and every accelerator's origin.
  const accelerator = model ? offer.accelerators.find((a) => a.model === model) : undefined;
  const npu = accelerator?.kind === 'NPU';
  rows[base + RENEWABLE] = offer.renewableRatio;
  rows[base + CARDS] = npu ? offer.free.npuCards : offer.free.gpuCards;
  rows[base + CPU] = offer.free.cpuCores;
  rows[base + MEMORY] = offer.free.memoryGib;
  rows[base + STORAGE] = offer.free.storageGib;
  rows[base + FP16] = offer.free.fp16Tflops;
  rows[base + FP32] = offer.free.fp32Tflops;
  rows[base + DOWNLINK] = offer.free.downlinkMbps;
  rows[base + CARD_PRICE] = npu ? offer.price.npuCardHourFen : offer.price.gpuCardHourFen;
  rows[base + CPU_PRICE] = offer.price.cpuCoreHourFen;
  rows[base + MEMORY_PRICE] = offer.price.memoryGibHourFen;
  rows[base + STORAGE_PRICE] = offer.price.storageGibHourFen;
  rows[base + DOMESTIC] = (
    accelerator ? accelerator.domestic : offer.accelerators.every((a) => a.domestic)
  )
    ? 1
    : 0;
  rows[base + SITE] = site;
  rows[base + GFLOPS] = offer.gflopsPerWatt;
  rows[base + CARBON] = carbonOf(offer);
}

/** Small numbers for the sites of pools, so a row can say where its pool is. */
export class SiteNumbers {
  private readonly numbers = new Map<string, number>();

  get size(): number {
    return this.numbers.size;
  }

  /** The site's number, given it one if it has none yet (numbers are never reused). */
  of(site: string): number {
    let number = this.numbers.get(site);
    if (number === undefined) this.numbers.set(site, (number = this.numbers.size));
    return number;
  }

  /** The site's number if any pool was ever there. */
  find(site: string): number | undefined {
    return this.numbers.get(site);
  }
}

/** The dedicated lines into one region by the number of the site they reach (see `matchCell`). */
export interface NumberedSiteLines {
  /** 1 at the number of each site lines reach. */
  reached: Uint8Array;
  bySite: Map<number, SiteLines>;
}

export function numberSiteLines(
  sites: ReadonlyMap<string, SiteLines>,
  numbers: SiteNumbers,
): NumberedSiteLines {
  const reached = new Uint8Array(numbers.size);
  const bySite = new Map<number, SiteLines>();
  for (const [site, lines] of sites) {
    const number = numbers.find(site);
    if (number === undefined) continue;
    reached[number] = 1;
    bySite.set(number, lines);
  }
  return { reached, bySite };
}

/** Index of each constraint in CONSTRAINTS: eliminations are tallied in an array by it. */
export const CONSTRAINT_INDEX = Object.fromEntries(CONSTRAINTS.map((c, i) => [c, i])) as Record<
  Constraint,
  number
>;
const MAX_LATENCY = CONSTRAINT_INDEX.max_latency_ms;
const MIN_SECURITY = CONSTRAINT_INDEX.min_security_level;
const DOMESTIC_ONLY = CONSTRAINT_INDEX.domestic_only;
const MIN_RENEWABLE = CONSTRAINT_INDEX.min_renewable_ratio;
const ACCELERATOR_COUNT = CONSTRAINT_INDEX.accelerator_count;
const CPU_CORES = CONSTRAINT_INDEX.cpu_cores;
const MEMORY_GIB = CONSTRAINT_INDEX.memory_gib;
const STORAGE_GIB = CONSTRAINT_INDEX.storage_gib;
const FP16_TFLOPS = CONSTRAINT_INDEX.fp16_tflops;
const FP32_TFLOPS = CONSTRAINT_INDEX.fp32_tflops;
const MIN_BANDWIDTH = CONSTRAINT_INDEX.min_bandwidth_mbps;
const MAX_PRICE = CONSTRAINT_INDEX.max_price_fen_per_hour;

/**
 * One demand's matches as columns, reused from query to query (a select runs synchronously): a
 * broad demand matching most pools allocates nothing per match; ranking makes a `Match` only for
 * the candidates it keeps.
 */
export class MatchBuffer implements MatchList {
  length = 0;
  private offers: Offer[] = [];
  private paths: RegionPath[] = [];
  private lines: Array<LineOffer | undefined> = [];
  private prices = new Float64Array(1024);
  private latencies = new Float64Array(1024);
  private bandwidths = new Float64Array(1024);
  private computes = new Float64Array(1024);
  private carbons = new Float64Array(1024);
  private levels = new Float64Array(1024);

  reset(): void {
    this.length = 0;
  }

  push(
    offer: Offer,
    path: RegionPath,
    line: LineOffer | undefined,
    latencyMs: number,
    bandwidthMbps: number,
    priceFenPerHour: number,
    gflopsPerWatt: number,
    carbon: number,
    securityLevel: number,
  ): void {
    const at = this.length;
    if (at === this.prices.length) this.grow();
    this.offers[at] = offer;
    this.paths[at] = path;
    this.lines[at] = line;
    this.prices[at] = priceFenPerHour;
    this.latencies[at] = latencyMs;
    this.bandwidths[at] = bandwidthMbps;
    this.computes[at] = gflopsPerWatt;
    this.carbons[at] = carbon;
    this.levels[at] = securityLevel;
    this.length = at + 1;
  }

  priceAt(i: number): number {
    return this.prices[i];
  }

  latencyAt(i: number): number {
    return this.latencies[i];
  }

  computeAt(i: number): number {
    return this.computes[i];
  }

  carbonAt(i: number): number {
    return this.carbons[i];
  }

  securityLevelAt(i: number): number {
    return this.levels[i];
  }

  offerAt(i: number): Offer {
    return this.offers[i];
  }

  matchAt(i: number): Match {
    const line = this.lines[i];
    return {
      offer: this.offers[i],
      path: line ? 'line' : this.paths[i].kind,
      line,
      latencyMs: this.latencies[i],
      bandwidthMbps: this.bandwidths[i],
      priceFenPerHour: this.prices[i],
    };
  }

  private grow(): void {
    const grown = (from: Float64Array) => {
      const to = new Float64Array(from.length * 2);
      to.set(from);
      return to;
    };
    this.prices = grown(this.prices);
    this.latencies = grown(this.latencies);
    this.bandwidths = grown(this.bandwidths);
    this.computes = grown(this.computes);
    this.carbons = grown(this.carbons);
    this.levels = grown(this.levels);
  }
}

/**
 * Checks every pool of a cell against a demand past region and latency of the region itself, in
 * CONSTRAINTS order exactly as `evaluate` does (same comparisons, same arithmetic in the same
 * order, so the same matches, prices and first failed constraint), tallying each failure by
 * constraint and pushing each match. `siteLines`: the dedicated lines into the cell's region by
 * site, when its path is DEFAULT and lines reach it; `level`: the cell's security level.
 */
export function matchCell(
  cell: Cell,
  level: number,
  demand: DemandSpec,
  path: RegionPath,
  siteLines: NumberedSiteLines | undefined,
  tally: Float64Array,
  out: MatchBuffer,
): void {
  const rows = cell.rows;
  const offers = cell.offers;
  const n = cell.length;
  const cpuCores = demand.cpuCores;
  const cards = demand.acceleratorCount;
  const memoryGib = demand.memoryGib;
  const storageGib = demand.storageGib;
  const fp16 = demand.fp16Tflops;
  const fp32 = demand.fp32Tflops;
  const minRenewable = demand.minRenewableRatio;
  const minBandwidth = demand.minBandwidthMbps;
  const maxPrice = demand.maxPriceFenPerHour;
  const maxLatency = demand.maxLatencyMs;
  const duration = demand.durationHours;
  const domesticOnly = demand.domesticOnly;
  const levelFails = level < demand.minSecurityLevel;
  const baseLatency = path.latencyMs;
  const baseTooSlow = maxLatency > 0 && baseLatency > maxLatency;
  for (let i = 0, base = 0; i < n; i += 1, base += STRIDE) {
    const poolPrice =
      cpuCores * rows[base + CPU_PRICE] +
      cards * rows[base + CARD_PRICE] +
      memoryGib * rows[base + MEMORY_PRICE] +
      storageGib * rows[base + STORAGE_PRICE];
    let line: LineOffer | undefined;
    if (baseTooSlow && siteLines !== undefined && siteLines.reached[rows[base + SITE]] === 1) {
      const lines = siteLines.bySite.get(rows[base + SITE]);
      if (lines !== undefined) line = lineAmong(lines, demand, poolPrice);
    }
    if (line === undefined ? baseTooSlow : maxLatency > 0 && line.latencyMs > maxLatency) {
      tally[MAX_LATENCY] += 1;
      continue;
    }
    if (levelFails) {
      tally[MIN_SECURITY] += 1;
      continue;
    }
    if (domesticOnly && rows[base + DOMESTIC] === 0) {
      tally[DOMESTIC_ONLY] += 1;
      continue;
    }
    if (rows[base + RENEWABLE] < minRenewable) {
      tally[MIN_RENEWABLE] += 1;
      continue;
    }
    if (cards > 0 && rows[base + CARDS] < cards) {
      tally[ACCELERATOR_COUNT] += 1;
      continue;
    }
    if (rows[base + CPU] < cpuCores) {
      tally[CPU_CORES] += 1;
      continue;
    }
    if (rows[base + MEMORY] < memoryGib) {
      tally[MEMORY_GIB] += 1;
      continue;
    }
    if (rows[base + STORAGE] < storageGib) {
      tally[STORAGE_GIB] += 1;
      continue;
    }
    if (rows[base + FP16] < fp16) {
      tally[FP16_TFLOPS] += 1;
      continue;
    }
    if (rows[base + FP32] < fp32) {
      tally[FP32_TFLOPS] += 1;
      continue;
    }
    const downlink = rows[base + DOWNLINK];
    const bandwidth = line ? Math.min(line.bandwidthMbpsFree, downlink) : downlink;
    if (bandwidth < minBandwidth) {
      tally[MIN_BANDWIDTH] += 1;
      continue;
    }
    const price = poolPrice + (line ? line.priceFenPerHour : 0);
    if ((maxPrice > 0 && price > maxPrice) || price * duration > Number.MAX_SAFE_INTEGER) {
      tally[MAX_PRICE] += 1;
      continue;
    }
    out.push(
      offers[i],
      path,
      line,
      line ? line.latencyMs : baseLatency,
      bandwidth,
      price,
      rows[base + GFLOPS],
      rows[base + CARBON],
      level,
    );
  }
}
