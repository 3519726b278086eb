/**
 * The node's estimate of network latency between two regions where no dedicated line is known:
 * within one region, within one province (the first two digits of the GB/T 2260 code), between
 * two provinces listed in the matrix, or the default between any others.
 */
export interface LatencySettings {
  sameRegionMs: number;
  sameProvinceMs: number;
  defaultMs: number;
  /** "31-11" → ms, either order. */
  provincePairs: ReadonlyMap<string, number>;
}

export function parseProvinceMatrix(json: string): Map<string, number> {
  const pairs = new Map<string, number>();
  if (json.trim() === '') return pairs;
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('must be a JSON object like {"31-11": 28}');
  for (const [key, value] of Object.entries(parsed)) {
    const match = /^(\d{2})-(\d{2})$/.exec(key);
    if (
      !match ||
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < 0 ||
      value > 60_000
    )
      throw new Error(`entry "${key}": expected "PP-PP": whole milliseconds`);
    pairs.set(`${match[1]}-${match[2]}`, value);
    pairs.set(`${match[2]}-${match[1]}`, value);
  }
  return pairs;
}

/**
 * The latency between two regions, as a path without a line: `local` within one region, else the
 * node's `default` estimate. A demand's walk over regions uses it as it is.
 */
export interface Between {
  readonly kind: 'local' | 'default';
  readonly latencyMs: number;
}

/**
 * Region pairs remembered before the memo starts over. User regions come from callers (any six
 * digits pass validation), so the memo is bounded by pairs, not by what the index holds.
 */
const MEMO_PAIRS = 65_536;

export class LatencyModel {
  /** By user region, then pool region: each pair is worked out once, then read without allocating. */
  private readonly memo = new Map<string, Map<string, Between>>();
  private memoPairs = 0;
  /** One frozen answer per distinct (kind, latency): pairs with the same estimate share it. */
  private readonly answers = new Map<string, Between>();

  constructor(private readonly settings: LatencySettings) {}

  /**
   * Milliseconds from a user's region to a pool's; local when they are the same region. Kept per
   * pair, and equal estimates are one frozen object: reading it again allocates nothing.
   */
  between(userRegion: string, poolRegion: string): Between {
    let row = this.memo.get(userRegion);
    if (row === undefined) {
      row = new Map();
      this.memo.set(userRegion, row);
    }
    let held = row.get(poolRegion);
    if (held === undefined) {
      if (this.memoPairs >= MEMO_PAIRS) {
        this.memo.clear();
        this.memoPairs = 0;
        row = new Map();
        this.memo.set(userRegion, row);
      }
      const computed = this.compute(userRegion, poolRegion);
      const key = `${computed.kind}${computed.latencyMs}`;
      held = this.answers.get(key);
      if (held === undefined) {
        held = Object.freeze(computed);
        this.answers.set(key, held);
      }
      row.set(poolRegion, held);
      this.memoPairs += 1;
    }
    return held;
  }

  private compute(userRegion: string, poolRegion: string): Between {
    if (userRegion === poolRegion) return { kind: 'local', latencyMs: this.settings.sameRegionMs };
    const a = userRegion.slice(0, 2);
    const b = poolRegion.slice(0, 2);
    if (a === b) return { kind: 'default', latencyMs: this.settings.sameProvinceMs };
    return {
      kind: 'default',
      latencyMs: this.settings.provincePairs.get(`${a}-${b}`) ?? this.settings.defaultMs,
    };
  }
}
