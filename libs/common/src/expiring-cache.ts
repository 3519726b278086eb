/**
 * A bounded map whose entries each end at their own time: past it, or when the capacity is
 * reached (the entry stored longest ago goes first), they are gone. For memory kept in front of
 * slower work (verified tokens, resolved records), never for state that must survive.
 */
export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value while its time has not passed. */
  get(key: K, now: number = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now < entry.until) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `value` until `until` (ms since the epoch). */
  set(key: K, value: V, until: number): void {
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      // A Map iterates in insertion order: the first key is the one stored longest ago.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
