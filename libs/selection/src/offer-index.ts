import type { PoolClassCode, PoolData } from '@cinode/contracts';
import type { DemandSpec, WeightSpec } from './demand';
import type { LatencyModel } from './latency';
import {
  evaluate,
  pathTo,
  rank,
  type Constraint,
  type Match,
  type SelectionResult,
} from './matcher';
import { NO_LINES, type LineReach, type LineTable } from './line-table';
import { offerOf, type Offer } from './offer';

/** Selectable pools of one class and model (or of one class), by region and security level. */
class Bucket {
  size = 0;
  readonly regions = new Map<string, Set<Offer>[]>();

  add(offer: Offer): void {
    let levels = this.regions.get(offer.regionCode);
    if (!levels)
      this.regions.set(offer.regionCode, (levels = [1, 2, 3, 4, 5].map(() => new Set())));
    levels[offer.securityLevel]?.add(offer);
    this.size += 1;
  }

  delete(offer: Offer): void {
    if (this.regions.get(offer.regionCode)?.[offer.securityLevel]?.delete(offer)) this.size -= 1;
  }
}

/**
 * Every pool's latest version, and the selectable ones bucketed by class (and by class and
 * accelerator model), each bucket by region and security level. A demand visits only its bucket,
 * and in it only the regions it allows and reaches in time and the levels it accepts: the pools it
 * skips fail a constraint checked before any other (state, class, model, region, latency, level),
 * so they are counted by the set, not visited, and the eliminations come out as a full scan's. A
 * region too far on the public network is visited only when a dedicated line from the user reaches
 * one of its sites in time, and then pool by pool (their paths differ by site).
 */
export class OfferIndex {
  private readonly offers = new Map<string, Offer>();
  private readonly byClass = new Map<PoolClassCode, Bucket>([
    ['A', new Bucket()],
    ['B', new Bucket()],
  ]);
  private readonly byModel = new Map<string, Bucket>();
  private selectableCount = 0;

  get size(): number {
    return this.offers.size;
  }

  get selectable(): number {
    return this.selectableCount;
  }

  /** Applies a pool's state if it is newer than the one held; true when it was. */
  apply(pool: PoolData): boolean {
    const held = this.offers.get(pool.poolId);
    if (held && held.version >= pool.version) return false;
    if (held) this.unbucket(held);
    const offer = offerOf(pool);
    this.offers.set(offer.poolId, offer);
    if (offer.selectable) this.bucket(offer);
    return true;
  }

  all(): IterableIterator<Offer> {
    return this.offers.values();
  }

  /** The demand's matches among the pools of its class and model, ranked. */
  select(
    demand: DemandSpec,
    weights: WeightSpec,
    topK: number,
    latency: LatencyModel,
    lines?: LineTable,
  ): SelectionResult {
    const reach = reachOf(demand, lines);
    const eliminations = new Map<Constraint, number>();
    const count = (constraint: Constraint, pools: number) => {
      if (pools > 0) eliminations.set(constraint, (eliminations.get(constraint) ?? 0) + pools);
    };
    const ofClass = this.byClass.get(demand.poolClass) ?? new Bucket();
    count('state', this.offers.size - this.selectableCount);
    count('pool_class', this.selectableCount - ofClass.size);
    let bucket = ofClass;
    if (demand.acceleratorModel) {
      bucket =
        this.byModel.get(modelKey(demand.poolClass, demand.acceleratorModel)) ?? new Bucket();
      count('accelerator_model', ofClass.size - bucket.size);
    }
    const matches: Match[] = [];
    for (const [region, levels] of bucket.regions) {
      const inRegion = levels.reduce((sum, set) => sum + set.size, 0);
      if (demand.allowedRegions.size > 0 && !demand.allowedRegions.has(region)) {
        count('allowed_regions', inRegion);
        continue;
      }
      const path = pathTo(region, demand, latency);
      // Too far without a line: only pools at the sites of lines fast enough may still match.
      const tooFar = demand.maxLatencyMs > 0 && path.latencyMs > demand.maxLatencyMs;
      if (tooFar && !((reach.get(region)?.minLatencyMs ?? Infinity) <= demand.maxLatencyMs)) {
        count('max_latency_ms', inRegion);
        continue;
      }
      for (let level = 1; level <= 4; level += 1) {
        const offers = levels[level];
        // Counted by the set only when no pool of it fails the latency first.
        if (level < demand.minSecurityLevel && !tooFar) {
          count('min_security_level', offers.size);
          continue;
        }
        for (const offer of offers) {
          const outcome = evaluate(offer, demand, latency, reach, path);
          if (typeof outcome === 'string') count(outcome, 1);
          else matches.push(outcome);
        }
      }
    }
    return {
      candidates: rank(matches, weights, topK),
      matched: matches.length,
      considered: this.offers.size,
      eliminations,
    };
  }

  private bucket(offer: Offer): void {
    this.selectableCount += 1;
    this.byClass.get(offer.poolClass)?.add(offer);
    for (const model of new Set(offer.accelerators.map((a) => a.model))) {
      const key = modelKey(offer.poolClass, model);
      let bucket = this.byModel.get(key);
      if (!bucket) this.byModel.set(key, (bucket = new Bucket()));
      bucket.add(offer);
    }
  }

  private unbucket(offer: Offer): void {
    if (!offer.selectable) return;
    this.selectableCount -= 1;
    this.byClass.get(offer.poolClass)?.delete(offer);
    for (const model of new Set(offer.accelerators.map((a) => a.model))) {
      const key = modelKey(offer.poolClass, model);
      const bucket = this.byModel.get(key);
      bucket?.delete(offer);
      if (bucket?.size === 0) this.byModel.delete(key);
    }
  }
}

/** The dedicated lines from the demand's user, by where they lead; none without a user region. */
function reachOf(demand: DemandSpec, lines: LineTable | undefined): LineReach {
  return lines && demand.userRegionCode
    ? lines.reachFrom(demand.userRegionCode, demand.userSite)
    : NO_LINES;
}

function modelKey(poolClass: PoolClassCode, model: string): string {
  return `${poolClass}\u0000${model}`;
}

/**
 * The same selection by visiting every pool in turn, checking state, class and model like any
 * other constraint: the reference the index must agree with (tests and the bench compare them).
 */
export function selectByScan(
  offers: Iterable<Offer>,
  demand: DemandSpec,
  weights: WeightSpec,
  topK: number,
  latency: LatencyModel,
  lines?: LineTable,
): SelectionResult {
  const reach = reachOf(demand, lines);
  const eliminations = new Map<Constraint, number>();
  const fail = (constraint: Constraint) =>
    eliminations.set(constraint, (eliminations.get(constraint) ?? 0) + 1);
  const matches: Match[] = [];
  let considered = 0;
  for (const offer of offers) {
    considered += 1;
    if (!offer.selectable) fail('state');
    else if (offer.poolClass !== demand.poolClass) fail('pool_class');
    else if (
      demand.acceleratorModel &&
      !offer.accelerators.some((a) => a.model === demand.acceleratorModel)
    )
      fail('accelerator_model');
    else {
      const outcome = evaluate(offer, demand, latency, reach);
      if (typeof outcome === 'string') fail(outcome);
      else matches.push(outcome);
    }
  }
  return {
    candidates: rank(matches, weights, topK),
    matched: matches.length,
    considered,
    eliminations,
  };
}
