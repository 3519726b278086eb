import type { Offer } from './offer';
import type { DemandSpec, WeightSpec } from './demand';
import type { LatencyModel } from './latency';
import { NO_LINES, type LineOffer, type LineReach, type SiteLines } from './line-table';

/**
 * Constraints in the order a pool is checked against them; it counts under the first it fails.
 * `quarantined`: the security service quarantined the pool or its provider (whatever its state);
 * `state`: not online with inventory. `min_security_level` compares the pool's effective level
 * (its claim lowered to the security service's cap, see `Offer.securityLevel`).
 */
export const CONSTRAINTS = [
  'quarantined',
  'state',
  'pool_class',
  'accelerator_model',
  'allowed_regions',
  'max_latency_ms',
  'min_security_level',
  'domestic_only',
  'min_renewable_ratio',
  'accelerator_count',
  'cpu_cores',
  'memory_gib',
  'storage_gib',
  'fp16_tflops',
  'fp32_tflops',
  'min_bandwidth_mbps',
  'max_price_fen_per_hour',
] as const;
export type Constraint = (typeof CONSTRAINTS)[number];

/** How a demand's user reaches a pool: no user region given, locally, a dedicated line, or not. */
export type PathKindName = 'none' | 'local' | 'line' | 'default';

/** The path to a region without dedicated lines. */
export interface RegionPath {
  kind: Exclude<PathKindName, 'line'>;
  latencyMs: number;
}

const NO_PATH: RegionPath = { kind: 'none', latencyMs: 0 };

/** How a demand's user reaches a region without a line: local, or the node's estimate between regions. */
export function pathTo(region: string, demand: DemandSpec, latency: LatencyModel): RegionPath {
  return demand.userRegionCode ? latency.between(demand.userRegionCode, region) : NO_PATH;
}

/**
 * The dedicated line a pool is reached by, if any meets the demand: among the usable lines from
 * the user's endpoint to the pool's region and site, the best (latency, price, id) within the
 * maximum latency, with at least the minimum bandwidth free, and within the maximum price with the
 * pool's own price. Allocates nothing: the site's lines are listed best first.
 */
export function lineFor(
  offer: Offer,
  demand: DemandSpec,
  reach: LineReach,
  poolPriceFenPerHour: number,
): LineOffer | undefined {
  const lines = reach.get(offer.regionCode)?.sites.get(offer.site);
  return lines ? lineAmong(lines, demand, poolPriceFenPerHour) : undefined;
}

/** The first of a site's lines (best first) that meets the demand; see `lineFor`. */
export function lineAmong(
  lines: SiteLines,
  demand: DemandSpec,
  poolPriceFenPerHour: number,
): LineOffer | undefined {
  for (const line of lines) {
    // Best first by latency: once one is too slow, every later one is.
    if (demand.maxLatencyMs > 0 && line.latencyMs > demand.maxLatencyMs) return undefined;
    // A line with nothing free carries nothing, whatever the demand's minimum.
    if (line.bandwidthMbpsFree < Math.max(1, demand.minBandwidthMbps)) continue;
    if (
      demand.maxPriceFenPerHour > 0 &&
      poolPriceFenPerHour + line.priceFenPerHour > demand.maxPriceFenPerHour
    )
      continue;
    return line;
  }
  return undefined;
}

/** A pool meeting a demand, before scoring. */
export interface Match {
  offer: Offer;
  path: PathKindName;
  /** The dedicated line of a `line` path. */
  line: LineOffer | undefined;
  latencyMs: number;
  bandwidthMbps: number;
  priceFenPerHour: number;
}

export interface Scored extends Match {
  score: number;
  breakdown: {
    price: number;
    latency: number;
    computeEfficiency: number;
    carbonEfficiency: number;
    security: number;
  };
}

export interface SelectionResult {
  candidates: Scored[];
  matched: number;
  considered: number;
  eliminations: Map<Constraint, number>;
}

/** The accelerators of an offer the demand would use: those of its model, or none asked. */
function acceleratorOf(offer: Offer, demand: DemandSpec) {
  return offer.accelerators.find((a) => a.model === demand.acceleratorModel);
}

/**
 * Checks one pool past the index's own constraints (state, class, model), in CONSTRAINTS order:
 * the first failed constraint, or the match. The path is LOCAL in the user's region; elsewhere the
 * public network (DEFAULT), or — when that misses the demand's latency limit — a dedicated line
 * that meets the demand (`lineFor`).
 */
export function evaluate(
  offer: Offer,
  demand: DemandSpec,
  latency: LatencyModel,
  reach: LineReach = NO_LINES,
  /** The path to the pool's region, when the caller worked it out already (the index does). */
  regionPath?: RegionPath,
): Constraint | Match {
  if (demand.allowedRegions.size > 0 && !demand.allowedRegions.has(offer.regionCode))
    return 'allowed_regions';
  const accelerator = demand.acceleratorModel ? acceleratorOf(offer, demand) : undefined;
  const cardPrice =
    accelerator?.kind === 'NPU' ? offer.price.npuCardHourFen : offer.price.gpuCardHourFen;
  const poolPrice =
    demand.cpuCores * offer.price.cpuCoreHourFen +
    demand.acceleratorCount * cardPrice +
    demand.memoryGib * offer.price.memoryGibHourFen +
    demand.storageGib * offer.price.storageGibHourFen;
  const base = regionPath ?? pathTo(offer.regionCode, demand, latency);
  // A line only where the public network misses the latency limit: a line never beats DEFAULT
  // otherwise (its bandwidth is at most the pool's downlink), and a line provider cannot reroute
  // (and so reprice) the pools the public network reaches in time.
  const needsLine =
    base.kind === 'default' && demand.maxLatencyMs > 0 && base.latencyMs > demand.maxLatencyMs;
  const line = needsLine ? lineFor(offer, demand, reach, poolPrice) : undefined;
  const latencyMs = line ? line.latencyMs : base.latencyMs;
  if (demand.maxLatencyMs > 0 && latencyMs > demand.maxLatencyMs) return 'max_latency_ms';
  if (offer.securityLevel < demand.minSecurityLevel) return 'min_security_level';
  if (demand.domesticOnly) {
    const foreign = accelerator
      ? !accelerator.domestic
      : offer.accelerators.some((a) => !a.domestic);
    if (foreign) return 'domestic_only';
  }
  if (offer.renewableRatio < demand.minRenewableRatio) return 'min_renewable_ratio';
  const cards = accelerator?.kind === 'NPU' ? offer.free.npuCards : offer.free.gpuCards;
  if (demand.acceleratorCount > 0 && cards < demand.acceleratorCount) return 'accelerator_count';
  if (offer.free.cpuCores < demand.cpuCores) return 'cpu_cores';
  if (offer.free.memoryGib < demand.memoryGib) return 'memory_gib';
  if (offer.free.storageGib < demand.storageGib) return 'storage_gib';
  if (offer.free.fp16Tflops < demand.fp16Tflops) return 'fp16_tflops';
  if (offer.free.fp32Tflops < demand.fp32Tflops) return 'fp32_tflops';
  const bandwidthMbps = line
    ? Math.min(line.bandwidthMbpsFree, offer.free.downlinkMbps)
    : offer.free.downlinkMbps;
  if (bandwidthMbps < demand.minBandwidthMbps) return 'min_bandwidth_mbps';
  const priceFenPerHour = poolPrice + (line ? line.priceFenPerHour : 0);
  // Above the maximum, or beyond what a price can be counted in (int64 fen, exact in a double).
  if (
    (demand.maxPriceFenPerHour > 0 && priceFenPerHour > demand.maxPriceFenPerHour) ||
    priceFenPerHour * demand.durationHours > Number.MAX_SAFE_INTEGER
  )
    return 'max_price_fen_per_hour';
  return {
    offer,
    path: line ? 'line' : base.kind,
    line,
    latencyMs,
    bandwidthMbps,
    priceFenPerHour,
  };
}

/** Higher is better, 0 to 1: where `value` lies between the worst and the best. */
function relative(value: number, best: number, worst: number): number {
  return best === worst ? 1 : (worst - value) / (worst - best);
}

/** Carbon efficiency of a site: its renewable share per unit of PUE. */
export function carbonOf(offer: Offer): number {
  return offer.renewableRatio / offer.pue;
}

/**
 * The matches of one demand as ranking reads them, by position: an array of `Match` (the full
 * scan's) or the index's columns, which make a `Match` only for the candidates kept.
 */
export interface MatchList {
  readonly length: number;
  priceAt(i: number): number;
  latencyAt(i: number): number;
  /** The pool's GFLOPS per watt. */
  computeAt(i: number): number;
  /** `carbonOf` the pool. */
  carbonAt(i: number): number;
  securityLevelAt(i: number): number;
  offerAt(i: number): Offer;
  matchAt(i: number): Match;
}

class MatchArray implements MatchList {
  constructor(private readonly matches: Match[]) {}

  get length(): number {
    return this.matches.length;
  }

  priceAt(i: number): number {
    return this.matches[i].priceFenPerHour;
  }

  latencyAt(i: number): number {
    return this.matches[i].latencyMs;
  }

  computeAt(i: number): number {
    return this.matches[i].offer.gflopsPerWatt;
  }

  carbonAt(i: number): number {
    return carbonOf(this.matches[i].offer);
  }

  securityLevelAt(i: number): number {
    return this.matches[i].offer.securityLevel;
  }

  offerAt(i: number): Offer {
    return this.matches[i].offer;
  }

  matchAt(i: number): Match {
    return this.matches[i];
  }
}

/** Scores the matches and keeps the best `topK` (see `rankList`). */
export function rank(matches: Match[], weights: WeightSpec, topK: number): Scored[] {
  return rankList(new MatchArray(matches), weights, topK);
}

/** The best candidates so far while ranking, by position in the match list (reused: ranking is synchronous). */
let keptScores = new Float64Array(128);
let keptAt = new Int32Array(128);

/**
 * Scores the matches and keeps the best `topK`: each criterion is scaled to 0..1 against the
 * matches themselves (price and latency between the best and worst, efficiencies against the
 * best, security by level), the score is their weighted mean, ties go to the lower pool id. One
 * pass for the ranges, one that keeps only the best `topK` (at most 100) in order: a broad demand
 * matching most of the index costs a few comparisons per pool, not a sort of all of them. The
 * kept ones are positions and scores in two reused typed arrays; only the final `topK` become
 * objects (a candidate displaced later never does), so a demand allocates the same whatever it
 * matches.
 */
export function rankList(matches: MatchList, weights: WeightSpec, wanted: number): Scored[] {
  const count = matches.length;
  // Whole candidates, never more than there are matches (the kept arrays are sized by it).
  const topK = Math.min(Math.floor(wanted), count);
  if (!(topK > 0)) return [];
  let minPrice = Infinity;
  let maxPrice = -Infinity;
  let minLatency = Infinity;
  let maxLatency = -Infinity;
  let bestCompute = 0;
  let bestCarbon = 0;
  for (let i = 0; i < count; i += 1) {
    const price = matches.priceAt(i);
    const latency = matches.latencyAt(i);
    if (price < minPrice) minPrice = price;
    if (price > maxPrice) maxPrice = price;
    if (latency < minLatency) minLatency = latency;
    if (latency > maxLatency) maxLatency = latency;
    const compute = matches.computeAt(i);
    if (compute > bestCompute) bestCompute = compute;
    const carbon = matches.carbonAt(i);
    if (carbon > bestCarbon) bestCarbon = carbon;
  }
  // Weights relative to the largest, so tiny ones cannot underflow the weighted sums.
  const largest = Math.max(
    weights.price,
    weights.latency,
    weights.computeEfficiency,
    weights.carbonEfficiency,
    weights.security,
  );
  const wPrice = weights.price / largest;
  const wLatency = weights.latency / largest;
  const wCompute = weights.computeEfficiency / largest;
  const wCarbon = weights.carbonEfficiency / largest;
  const wSecurity = weights.security / largest;
  const total = wPrice + wLatency + wCompute + wCarbon + wSecurity;
  if (keptScores.length < topK) {
    keptScores = new Float64Array(topK);
    keptAt = new Int32Array(topK);
  }
  const scores = keptScores;
  const at = keptAt;
  let kept = 0;
  for (let i = 0; i < count; i += 1) {
    const score =
      (wPrice * relative(matches.priceAt(i), minPrice, maxPrice) +
        wLatency * relative(matches.latencyAt(i), minLatency, maxLatency) +
        wCompute * (bestCompute > 0 ? matches.computeAt(i) / bestCompute : 1) +
        wCarbon * (bestCarbon > 0 ? matches.carbonAt(i) / bestCarbon : 1) +
        wSecurity * ((matches.securityLevelAt(i) - 1) / 3)) /
      total;
    // Most matches miss the cut on the score alone; the pool id is read only for a tie.
    if (kept === topK) {
      const last = scores[kept - 1];
      // Written so that a NaN score (which no valid demand gives) never displaces a number.
      if (!(score >= last)) continue;
      if (score === last && !(matches.offerAt(i).poolId < matches.offerAt(at[kept - 1]).poolId))
        continue;
    }
    // Where it goes: after every kept one that ranks above it (higher score, or equal and a
    // lower pool id).
    let low = 0;
    let high = kept;
    while (low < high) {
      const mid = (low + high) >> 1;
      const s = scores[mid];
      if (s > score || (s === score && matches.offerAt(at[mid]).poolId < matches.offerAt(i).poolId))
        low = mid + 1;
      else high = mid;
    }
    const end = kept < topK ? kept : topK - 1;
    scores.copyWithin(low + 1, low, end);
    at.copyWithin(low + 1, low, end);
    scores[low] = score;
    at[low] = i;
    if (kept < topK) kept += 1;
  }
  const candidates: Scored[] = [];
  for (let k = 0; k < kept; k += 1) {
    const i = at[k];
    // The same arithmetic as the score above, so the breakdown adds up to it exactly. Written
    // out twice on purpose: through shared closures the loop above measured 7-15% slower.
    const breakdown = {
      price: relative(matches.priceAt(i), minPrice, maxPrice),
      latency: relative(matches.latencyAt(i), minLatency, maxLatency),
      computeEfficiency: bestCompute > 0 ? matches.computeAt(i) / bestCompute : 1,
      carbonEfficiency: bestCarbon > 0 ? matches.carbonAt(i) / bestCarbon : 1,
      security: (matches.securityLevelAt(i) - 1) / 3,
    };
    // Field by field: spreading the match is a slow path in V8 (several microseconds a copy).
    const m = matches.matchAt(i);
    candidates.push({
      offer: m.offer,
      path: m.path,
      line: m.line,
      latencyMs: m.latencyMs,
      bandwidthMbps: m.bandwidthMbps,
      priceFenPerHour: m.priceFenPerHour,
      score: scores[k],
      breakdown,
    });
  }
  return candidates;
}
