import { isIPv6 } from 'node:net';

/** Sources tracked in one minute; beyond them, the rest share one budget (memory stays bounded). */
const MAX_SOURCES = 10_000;
const OTHERS = '(other sources)';
const WINDOW_MS = 60_000;
/** Sources whose running out is announced one by one in a minute; the rest only in its summary. */
const ANNOUNCED = 10;

/** What a window that just closed left out of the audit trail, by source. */
export type SuppressedRefusals = ReadonlyMap<string, number>;

/**
 * The source a refusal is counted against: an IPv4 address, or the /64 an IPv6 address is in (one
 * host usually holds a whole /64, so counting its addresses one by one would count nothing).
 */
export function refusalSource(address: string): string {
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * How many refusals to audited RPCs each source gets recorded one by one per minute, and all
 * sources together. Such a refusal changes nothing, yet each writes a row to an append-only trail:
 * without a bound, whoever sends them could grow it without end, and a refusal meant to spare the
 * service (a rate limit) would cost it a database write each. Past the budget a refusal is answered
 * exactly the same, counted, and summarised instead of recorded. 0 records every refusal.
 *
 * The call pipeline keeps two, each per replica: refusals of calls no token identifies, by address
 * (an IPv4 address, an IPv6 /64: AUDIT_UNAUTHENTICATED_PER_MINUTE), and the access controls'
 * refusals of known participants before their calls run (over their rate, quarantined, the
 * quarantine list unread), by participant and reason (AUDIT_CALLER_REFUSALS_PER_MINUTE). A
 * participant's other refusals (a role it lacks) and every call that ran are always recorded. A
 * window's summary is written when it ends (or, should the clock jump, at the next refusal), and
 * when the service stops (`close`).
 */
export class RefusalAuditBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private counts = new Map<string, number>();
  private suppressed = new Map<string, number>();
  private recorded = 0;
  private announced = 0;
  private readonly totalPerMinute: number;
  /** Writes the summary when the window that suppressed something ends, if no refusal does first. */
  private flushTimer: NodeJS.Timeout | undefined;
  private closedBy: ((suppressed: SuppressedRefusals) => void) | undefined;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    /** All sources together; by default 50 sources' worth. */
    totalPerMinute?: number,
  ) {
    this.totalPerMinute = totalPerMinute ?? perMinute * 50;
  }

  /**
   * Whether this refusal from `address` is recorded: an IP address (counted by refusalSource) or
   * any other source's key (a participant's), counted as it is. `closed` receives what a window
   * left out, once, when it ends (a timer) or when this call starts the next one; `firstOver` is
   * told the moment a source runs out (the first ten of a minute, and when all sources together
   * do, as '(all sources)').
   */
  admit(
    address: string,
    closed: (suppressed: SuppressedRefusals) => void,
    firstOver: (source: string) => void,
  ): boolean {
    if (this.perMinute <= 0) return true;
    const now = this.now();
    if (now - this.windowStart >= WINDOW_MS || now < this.windowStart) {
      this.flush(closed);
      this.windowStart = now;
      this.counts = new Map();
      this.suppressed = new Map();
      this.recorded = 0;
      this.announced = 0;
    }
    const source = refusalSource(address);
    const key = this.counts.has(source) || this.counts.size < MAX_SOURCES ? source : OTHERS;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count <= this.perMinute && this.recorded < this.totalPerMinute) {
      this.recorded += 1;
      return true;
    }
    if (count === this.perMinute + 1 && this.announced < ANNOUNCED) {
      this.announced += 1;
      firstOver(key);
    } else if (count <= this.perMinute && this.recorded === this.totalPerMinute) {
      this.recorded += 1; // announced once: the total is spent
      firstOver('(all sources)');
    }
    this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
    this.closedBy = closed;
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.windowStart + WINDOW_MS - now);
      this.flushTimer.unref();
    }
    return false;
  }

  /**
   * Hands what the current window has left out so far to its summary now, and stops the timer: a
   * service stopping does not take a minute's summary with it.
   */
  close(): void {
    this.flush();
  }

  /** Hands what the current window left out to `closed` (once), and forgets it. */
  private flush(closed = this.closedBy): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.suppressed.size > 0) closed?.(this.suppressed);
    this.suppressed = new Map();
  }
}
