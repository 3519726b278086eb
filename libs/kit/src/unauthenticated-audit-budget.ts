/** Addresses tracked in one minute; beyond them, the rest share one budget (memory stays bounded). */
const MAX_ADDRESSES = 10_000;
const OTHERS = '(other addresses)';
const WINDOW_MS = 60_000;

/** What a window that just closed left out of the audit trail, by address. */
export type SuppressedRefusals = ReadonlyMap<string, number>;

/**
 * How many refusals of unauthenticated calls (no token, a bad one) to audited RPCs each address
 * gets recorded one by one per minute. Such a refusal changes nothing and names no one, yet each
 * writes a row to an append-only trail: without a bound, anyone who can reach a port could grow
 * it without end. Past the budget a refusal is answered exactly the same, counted, and summarised
 * (one warning per address and minute) instead of recorded. Calls with a valid token are never
 * affected, and neither are refusals of known callers (roles, rate limits, quarantine), which
 * name who was refused. 0 records every refusal.
 */
export class UnauthenticatedAuditBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private counts = new Map<string, number>();
  private suppressed = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether this refusal from `address` is recorded. `closed` receives what the window that ended
   * left out, when this call ends one; `firstOver` is told the moment an address runs out.
   */
  admit(
    address: string,
    closed: (suppressed: SuppressedRefusals) => void,
    firstOver: (address: string) => void,
  ): boolean {
    if (this.perMinute <= 0) return true;
    const now = this.now();
    if (now - this.windowStart >= WINDOW_MS) {
      if (this.suppressed.size > 0) closed(this.suppressed);
      this.windowStart = now;
      this.counts = new Map();
      this.suppressed = new Map();
    }
    const key = this.counts.has(address) || this.counts.size < MAX_ADDRESSES ? address : OTHERS;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count <= this.perMinute) return true;
    if (count === this.perMinute + 1) firstOver(key);
    this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
    return false;
  }
}
