import type { PoolClassCode, PoolData } from '@cinode/contracts';
import type { DemandSpec, WeightSpec } from './demand';
import type { LatencyModel } from './latency';
import { evaluate, rank, type Constraint, type Match, type SelectionResult } from './matcher';
import { offerOf, type Offer } from './offer';

/**
 * Every pool's latest version, and the selectable ones bucketed by class and by class and
 * accelerator model, so a demand looks only at pools of its class and model. Pools outside the
 * bucket are counted, not visited: the eliminations come out as a full scan's would.
 */
export class OfferIndex {
  private readonly offers = new Map<string, Offer>();
  private readonly byClass = new Map<PoolClassCode, Set<Offer>>([
    ['A', new Set()],
    ['B', new Set()],
  ]);
  private readonly byModel = new Map<string, Set<Offer>>();
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
  ): SelectionResult {
    const eliminations = new Map<Constraint, number>();
    const count = (constraint: Constraint, pools: number) => {
      if (pools > 0) eliminations.set(constraint, (eliminations.get(constraint) ?? 0) + pools);
    };
    const ofClass = this.byClass.get(demand.poolClass) ?? new Set<Offer>();
    count('state', this.offers.size - this.selectableCount);
    count('pool_class', this.selectableCount - ofClass.size);
    let bucket: ReadonlySet<Offer> = ofClass;
    if (demand.acceleratorModel) {
      bucket = this.byModel.get(modelKey(demand.poolClass, demand.acceleratorModel)) ?? new Set();
      count('accelerator_model', ofClass.size - bucket.size);
    }
    const matches: Match[] = [];
    for (const offer of bucket) {
      const outcome = evaluate(offer, demand, latency);
      if (typeof outcome === 'string') count(outcome, 1);
      else matches.push(outcome);
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
      let set = this.byModel.get(key);
      if (!set) this.byModel.set(key, (set = new Set()));
      set.add(offer);
    }
  }

  private unbucket(offer: Offer): void {
    if (!offer.selectable) return;
    this.selectableCount -= 1;
    this.byClass.get(offer.poolClass)?.delete(offer);
    for (const model of new Set(offer.accelerators.map((a) => a.model))) {
      const key = modelKey(offer.poolClass, model);
      const set = this.byModel.get(key);
      set?.delete(offer);
      if (set?.size === 0) this.byModel.delete(key);
    }
  }
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
): SelectionResult {
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
      const outcome = evaluate(offer, demand, latency);
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
