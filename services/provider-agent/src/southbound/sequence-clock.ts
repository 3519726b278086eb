/**
 * Snapshot sequences of one pool: rising by at least one at every snapshot, and derived from the
 * clock (microseconds since the epoch) so a restarted agent starts above anything it sent before
 * without keeping state. Seeded with the pool's latest sequence as the node knows it (RegisterPool
 * answers it), so even a clock set back cannot make a sequence go backwards; the node would ignore
 * it. Microseconds stay below 2^53 until the year 2255.
 */
export class SequenceClock {
  private last: number;

  constructor(
    latestKnown: number,
    private readonly now: () => number = Date.now,
  ) {
    this.last = latestKnown;
  }

  next(): number {
    this.last = Math.max(this.last + 1, Math.floor(this.now()) * 1000);
    return this.last;
  }

  get latest(): number {
    return this.last;
  }
}
