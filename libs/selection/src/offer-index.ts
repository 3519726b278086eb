import type { PoolClassCode, PoolData } from '@cinode/contracts';
import type { DemandSpec, WeightSpec } from './demand';
import type { LatencyModel } from './latency';
import {
  CONSTRAINTS,
  evaluate,
  pathTo,
  rank,
  rankList,
  type Constraint,
  type Match,
  type SelectionResult,
} from './matcher';
import { NO_LINES, type LineReach, type LineTable } from './line-table';
import {
  CONSTRAINT_INDEX,
  Cell,
  MatchBuffer,
  SiteNumbers,
  matchCell,
  numberSiteLines,
  type NumberedSiteLines,
} from './offer-cell';
import { SharedValues, offerOf, type Offer } from './offer';

/** Selectable pools of one class and model (or of one class), by region and security level. */
class Bucket {
  size = 0;
  /** Per region, one cell per security level 1 to 4 (index 0 unused). */
  readonly regions = new Map<string, Cell[]>();
  /**
   * The same regions and cells as two arrays, in the order they came (a region is never removed):
   * a demand walks them by position, where iterating the map would allocate an entry per region.
   */
  readonly regionCodes: string[] = [];
  readonly regionCells: Cell[][] = [];

  /** `model`: the bucket's accelerator model, "" for a class bucket. */
  constructor(readonly model: string) {}

  add(offer: Offer, site: number): void {
    let levels = this.regions.get(offer.regionCode);
    if (!levels) {
      levels = [0, 1, 2, 3, 4].map(() => new Cell());
      this.regions.set(offer.regionCode, levels);
      this.regionCodes.push(offer.regionCode);
      this.regionCells.push(levels);
    }
    const cell = levels[offer.securityLevel];
    if (!cell) return;
    cell.add(offer, this.model, site);
    this.size += 1;
  }

  delete(offer: Offer): void {
    if (this.regions.get(offer.regionCode)?.[offer.securityLevel]?.delete(offer)) this.size -= 1;
  }
}

const QUARANTINED = CONSTRAINT_INDEX.quarantined;
const STATE = CONSTRAINT_INDEX.state;
const POOL_CLASS = CONSTRAINT_INDEX.pool_class;
const ACCELERATOR_MODEL = CONSTRAINT_INDEX.accelerator_model;
const ALLOWED_REGIONS = CONSTRAINT_INDEX.allowed_regions;
const MAX_LATENCY = CONSTRAINT_INDEX.max_latency_ms;
const MIN_SECURITY = CONSTRAINT_INDEX.min_security_level;

/**
 * Every pool's latest version, and the selectable ones bucketed by class (and by class and
 * accelerator model), each bucket by region and security level. A demand visits only its bucket,
 * and in it only the regions it allows and reaches in time and the levels it accepts: the pools it
 * skips fail a constraint checked before any other (quarantine, state, class, model, region,
 * latency, level: a pool's cell is that of its effective level, the claim lowered to any cap),
 * so they are counted by the cell, not visited, and the eliminations come out as a full scan's. A
 * region too far on the public network is visited only when a dedicated line from the user reaches
 * one of its sites in time, and then pool by pool (their paths differ by site). The pools a demand
 * does visit are checked from their cells' numeric rows (`matchCell`) into reused match columns.
 */
export class OfferIndex {
  private readonly offers = new Map<string, Offer>();
  private readonly byClass = new Map<PoolClassCode, Bucket>([
    ['A', new Bucket('')],
    ['B', new Bucket('')],
  ]);
  private readonly byModel = new Map<string, Bucket>();
  private readonly matches = new MatchBuffer();
  private readonly sites = new SiteNumbers();
  private readonly shared = new SharedValues();
  private selectableCount = 0;
  private quarantinedCount = 0;
  private changes = 0;

  get size(): number {
    return this.offers.size;
  }

  /** Counts the changes applied: the same version, the same answer to every demand. */
  get version(): number {
    return this.changes;
  }

  get selectable(): number {
    return this.selectableCount;
  }

  /** Pools held that the security service quarantined (none of them selectable). */
  get quarantined(): number {
    return this.quarantinedCount;
  }

  /** Applies a pool's state if it is newer than the one held; true when it was. */
  apply(pool: PoolData): boolean {
    const held = this.offers.get(pool.poolId);
    if (held && held.version >= pool.version) return false;
    if (held) {
      this.unbucket(held);
      if (held.quarantined) this.quarantinedCount -= 1;
    }
    this.changes += 1;
    const offer = offerOf(pool, this.shared);
    this.offers.set(offer.poolId, offer);
    if (offer.quarantined) this.quarantinedCount += 1;
    if (offer.selectable) this.bucket(offer);
    return true;
  }

  /**
   * Gives back the room cells grew into beyond what they hold, e.g. once the index is built: up to
   * half of their rows. A cell that grows again grows as before.
   */
  compact(): void {
    for (const bucket of [...this.byClass.values(), ...this.byModel.values()])
      for (const levels of bucket.regions.values()) for (const cell of levels) cell.compact();
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
    const tally = new Float64Array(CONSTRAINTS.length);
    const ofClass = this.byClass.get(demand.poolClass) ?? new Bucket('');
    // A quarantined pool is never selectable, whatever its state, and counts as quarantined.
    tally[QUARANTINED] += this.quarantinedCount;
    tally[STATE] += this.offers.size - this.selectableCount - this.quarantinedCount;
    tally[POOL_CLASS] += this.selectableCount - ofClass.size;
    let bucket = ofClass;
    if (demand.acceleratorModel) {
      bucket =
        this.byModel.get(modelKey(demand.poolClass, demand.acceleratorModel)) ??
        new Bucket(demand.acceleratorModel);
      tally[ACCELERATOR_MODEL] += ofClass.size - bucket.size;
    }
    const matches = this.matches;
    matches.reset();
    const { regionCodes, regionCells } = bucket;
    for (let r = 0; r < regionCodes.length; r += 1) {
      const region = regionCodes[r];
      const levels = regionCells[r];
      let inRegion = 0;
      for (let level = 1; level <= 4; level += 1) inRegion += levels[level].length;
      if (demand.allowedRegions.size > 0 && !demand.allowedRegions.has(region)) {
        tally[ALLOWED_REGIONS] += inRegion;
        continue;
      }
      const path = pathTo(region, demand, latency);
      const regionLines = path.kind === 'default' ? reach.get(region) : undefined;
      // Too far without a line: only pools at the sites of lines fast enough may still match.
      const tooFar = demand.maxLatencyMs > 0 && path.latencyMs > demand.maxLatencyMs;
      if (tooFar && !((regionLines?.minLatencyMs ?? Infinity) <= demand.maxLatencyMs)) {
        tally[MAX_LATENCY] += inRegion;
        continue;
      }
      let siteLines: NumberedSiteLines | undefined;
      for (let level = 1; level <= 4; level += 1) {
        const cell = levels[level];
        if (cell.length === 0) continue;
        // Counted by the cell only when no pool of it fails the latency first.
        if (level < demand.minSecurityLevel && !tooFar) {
          tally[MIN_SECURITY] += cell.length;
          continue;
        }
        siteLines ??= regionLines && numberSiteLines(regionLines.sites, this.sites);
        matchCell(cell, level, demand, path, siteLines, tally, matches);
      }
    }
    const eliminations = new Map<Constraint, number>();
    CONSTRAINTS.forEach((constraint, i) => {
      if (tally[i] > 0) eliminations.set(constraint, tally[i]);
    });
    return {
      candidates: rankList(matches, weights, topK),
      matched: matches.length,
      considered: this.offers.size,
      eliminations,
    };
  }

  private bucket(offer: Offer): void {
    this.selectableCount += 1;
    const site = this.sites.of(offer.site);
    this.byClass.get(offer.poolClass)?.add(offer, site);
    for (const model of new Set(offer.accelerators.map((a) => a.model))) {
      const key = modelKey(offer.poolClass, model);
      let bucket = this.byModel.get(key);
      if (!bucket) this.byModel.set(key, (bucket = new Bucket(model)));
      bucket.add(offer, site);
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
    if (offer.quarantined) fail('quarantined');
    else if (!offer.selectable) fail('state');
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
