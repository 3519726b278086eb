import type { LineData } from '@cinode/contracts';

/** What selection knows of a dedicated line: its latest version, reduced to what matching reads. */
export interface LineOffer {
  lineId: string;
  version: number;
  a: { regionCode: string; site: string };
  b: { regionCode: string; site: string };
  latencyMs: number;
  /** What the provider states free less what this node's orders reserve (line holds), at least 0. */
  bandwidthMbpsFree: number;
  priceFenPerHour: number;
  /** Filed and in service: the only lines a path may take. */
  usable: boolean;
}

/** The usable lines to one pool site from a user's endpoint, best first (latency, price, id). */
export type SiteLines = readonly LineOffer[];

/** The lines from a user's endpoint into one region: by the pool site they end at. */
export interface RegionLines {
  /** The lowest latency of any of them: a region no line reaches in time is skipped whole. */
  minLatencyMs: number;
  sites: ReadonlyMap<string, SiteLines>;
}

/** Lines from one user endpoint, by the region of their other end (never the user's own region). */
export type LineReach = ReadonlyMap<string, RegionLines>;

export const NO_LINES: LineReach = new Map();

/** Whether line `x` is a better path than line `y`: lower latency, then lower price, then lower id. */
export function lineBefore(x: LineOffer, y: LineOffer): boolean {
  if (x.latencyMs !== y.latencyMs) return x.latencyMs < y.latencyMs;
  if (x.priceFenPerHour !== y.priceFenPerHour) return x.priceFenPerHour < y.priceFenPerHour;
  return x.lineId < y.lineId;
}

function compareLines(x: LineOffer, y: LineOffer): number {
  return lineBefore(x, y) ? -1 : lineBefore(y, x) ? 1 : 0;
}

function lineOfferOf(line: LineData): LineOffer {
  return {
    lineId: line.lineId,
    version: line.version,
    a: { regionCode: line.endpointA.regionCode, site: line.endpointA.site },
    b: { regionCode: line.endpointB.regionCode, site: line.endpointB.site },
    latencyMs: line.latencyMs,
    bandwidthMbpsFree: Math.max(0, line.bandwidthMbpsFree - line.bandwidthMbpsReserved),
    priceFenPerHour: line.priceFenPerHour,
    usable: line.state === 'active',
  };
}

/**
 * Every dedicated line's latest version, and the usable ones by the regions they end in, each
 * region's list kept best first. `reachFrom` gathers, once per Select, the lines leaving a user's
 * region (and site) by the region and site they reach, so matching a pool looks its lines up in
 * two maps and allocates nothing.
 */
export class LineTable {
  private readonly lines = new Map<string, LineOffer>();
  private readonly byRegion = new Map<string, LineOffer[]>();
  private usableCount = 0;
  private changes = 0;

  get size(): number {
    return this.lines.size;
  }

  /** Counts the changes applied: the same version, the same paths for every demand. */
  get version(): number {
    return this.changes;
  }

  get usable(): number {
    return this.usableCount;
  }

  /** Applies a line's state if it is newer than the one held; true when it was. */
  apply(line: LineData): boolean {
    const held = this.lines.get(line.lineId);
    if (held && held.version >= line.version) return false;
    if (held?.usable) this.unlist(held);
    this.changes += 1;
    const offer = lineOfferOf(line);
    this.lines.set(offer.lineId, offer);
    if (offer.usable) this.list(offer);
    return true;
  }

  get(lineId: string): LineOffer | undefined {
    return this.lines.get(lineId);
  }

  /**
   * The usable lines with one end at the user's region (and at `userSite` when given) by where
   * their other end is. Lines whose other end is in the user's region too are left out: a pool
   * there is reached locally.
   */
  reachFrom(userRegion: string, userSite: string): LineReach {
    const lines = this.byRegion.get(userRegion);
    if (!lines) return NO_LINES;
    const reach = new Map<string, { minLatencyMs: number; sites: Map<string, LineOffer[]> }>();
    // The region's list is best first, so every site's list is too.
    for (const line of lines) {
      const [near, far] = line.a.regionCode === userRegion ? [line.a, line.b] : [line.b, line.a];
      if (far.regionCode === userRegion) continue;
      if (userSite !== '' && near.site !== userSite) continue;
      let region = reach.get(far.regionCode);
      if (!region) {
        region = { minLatencyMs: line.latencyMs, sites: new Map() };
        reach.set(far.regionCode, region);
      }
      const site = region.sites.get(far.site);
      if (site) site.push(line);
      else region.sites.set(far.site, [line]);
    }
    return reach;
  }

  private list(line: LineOffer): void {
    this.usableCount += 1;
    for (const region of new Set([line.a.regionCode, line.b.regionCode])) {
      const lines = this.byRegion.get(region) ?? [];
      lines.push(line);
      lines.sort(compareLines);
      this.byRegion.set(region, lines);
    }
  }

  private unlist(line: LineOffer): void {
    this.usableCount -= 1;
    for (const region of new Set([line.a.regionCode, line.b.regionCode])) {
      const lines = this.byRegion.get(region)?.filter((l) => l.lineId !== line.lineId) ?? [];
      if (lines.length > 0) this.byRegion.set(region, lines);
      else this.byRegion.delete(region);
    }
  }
}
