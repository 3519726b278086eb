import type { Offer } from './offer';
import type { DemandSpec, WeightSpec } from './demand';
import type { LatencyModel } from './latency';

/** Constraints in the order a pool is checked against them; it counts under the first it fails. */
export const CONSTRAINTS = [
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

/** How a demand's user reaches a region: local, or the node's estimate between regions. */
export function pathTo(
  region: string,
  demand: DemandSpec,
  latency: LatencyModel,
): { local: boolean; latencyMs: number } {
  return demand.userRegionCode
    ? latency.between(demand.userRegionCode, region)
    : { local: false, latencyMs: 0 };
}

/** A pool meeting a demand, before scoring. */
export interface Match {
  offer: Offer;
  local: boolean;
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
 * the first failed constraint, or the match.
 */
export function evaluate(
  offer: Offer,
  demand: DemandSpec,
  latency: LatencyModel,
  /** The path to the pool's region, when the caller worked it out already (the index does). */
  knownPath?: { local: boolean; latencyMs: number },
): Constraint | Match {
  if (demand.allowedRegions.size > 0 && !demand.allowedRegions.has(offer.regionCode))
    return 'allowed_regions';
  const path = knownPath ?? pathTo(offer.regionCode, demand, latency);
  if (demand.maxLatencyMs > 0 && path.latencyMs > demand.maxLatencyMs) return 'max_latency_ms';
  if (offer.securityLevel < demand.minSecurityLevel) return 'min_security_level';
  const accelerator = demand.acceleratorModel ? acceleratorOf(offer, demand) : undefined;
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
  const bandwidthMbps = offer.free.downlinkMbps;
  if (bandwidthMbps < demand.minBandwidthMbps) return 'min_bandwidth_mbps';
  const cardPrice =
    accelerator?.kind === 'NPU' ? offer.price.npuCardHourFen : offer.price.gpuCardHourFen;
  const priceFenPerHour =
    demand.cpuCores * offer.price.cpuCoreHourFen +
    demand.acceleratorCount * cardPrice +
    demand.memoryGib * offer.price.memoryGibHourFen +
    demand.storageGib * offer.price.storageGibHourFen;
  // Above the maximum, or beyond what a price can be counted in (int64 fen, exact in a double).
  if (
    (demand.maxPriceFenPerHour > 0 && priceFenPerHour > demand.maxPriceFenPerHour) ||
    priceFenPerHour * demand.durationHours > Number.MAX_SAFE_INTEGER
  )
    return 'max_price_fen_per_hour';
  return { offer, local: path.local, latencyMs: path.latencyMs, bandwidthMbps, priceFenPerHour };
}

/** Higher is better, 0 to 1: where `value` lies between the worst and the best. */
function relative(value: number, best: number, worst: number): number {
  return best === worst ? 1 : (worst - value) / (worst - best);
}

/** Carbon efficiency of a site: its renewable share per unit of PUE. */
function carbonOf(offer: Offer): number {
  return offer.renewableRatio / offer.pue;
}

/**
 * Scores the matches and keeps the best `topK`: each criterion is scaled to 0..1 against the
 * matches themselves (price and latency between the best and worst, efficiencies against the
 * best, security by level), the score is their weighted mean, ties go to the lower pool id. One
 * pass for the ranges, one that keeps only the best `topK` (at most 100) in order: a broad demand
 * matching most of the index costs a few comparisons per pool, not a sort of all of them.
 */
export function rank(matches: Match[], weights: WeightSpec, topK: number): Scored[] {
  if (matches.length === 0) return [];
  let minPrice = Infinity;
  let maxPrice = -Infinity;
  let minLatency = Infinity;
  let maxLatency = -Infinity;
  let bestCompute = 0;
  let bestCarbon = 0;
  for (const m of matches) {
    if (m.priceFenPerHour < minPrice) minPrice = m.priceFenPerHour;
    if (m.priceFenPerHour > maxPrice) maxPrice = m.priceFenPerHour;
    if (m.latencyMs < minLatency) minLatency = m.latencyMs;
    if (m.latencyMs > maxLatency) maxLatency = m.latencyMs;
    if (m.offer.gflopsPerWatt > bestCompute) bestCompute = m.offer.gflopsPerWatt;
    const carbon = carbonOf(m.offer);
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
  const w = {
    price: weights.price / largest,
    latency: weights.latency / largest,
    computeEfficiency: weights.computeEfficiency / largest,
    carbonEfficiency: weights.carbonEfficiency / largest,
    security: weights.security / largest,
  };
  const total = w.price + w.latency + w.computeEfficiency + w.carbonEfficiency + w.security;
  /** Whether (score a, id a) ranks above (score b, id b). */
  const above = (scoreA: number, idA: string, scoreB: number, idB: string): boolean =>
    scoreA > scoreB || (scoreA === scoreB && idA < idB);
  const kept: Scored[] = [];
  for (const m of matches) {
    // Scored without allocating; only a candidate that makes the cut becomes an object.
    const price = relative(m.priceFenPerHour, minPrice, maxPrice);
    const latency = relative(m.latencyMs, minLatency, maxLatency);
    const computeEfficiency = bestCompute > 0 ? m.offer.gflopsPerWatt / bestCompute : 1;
    const carbonEfficiency = bestCarbon > 0 ? carbonOf(m.offer) / bestCarbon : 1;
    const security = (m.offer.securityLevel - 1) / 3;
    const score =
      (w.price * price +
        w.latency * latency +
        w.computeEfficiency * computeEfficiency +
        w.carbonEfficiency * carbonEfficiency +
        w.security * security) /
      total;
    const last = kept[kept.length - 1];
    if (
      kept.length === topK &&
      last &&
      !above(score, m.offer.poolId, last.score, last.offer.poolId)
    )
      continue;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      const k = kept[mid];
      if (above(k.score, k.offer.poolId, score, m.offer.poolId)) low = mid + 1;
      else high = mid;
    }
    const breakdown = { price, latency, computeEfficiency, carbonEfficiency, security };
    kept.splice(low, 0, { ...m, score, breakdown });
    if (kept.length > topK) kept.pop();
  }
  return kept;
}
