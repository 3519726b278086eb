import { SequenceClock } from './sequence-clock';

describe(SequenceClock.name, () => {
  it('rises at every snapshot, even many in one millisecond', () => {
    const clock = new SequenceClock(0, () => 1_700_000_000_000);
    const values = Array.from({ length: 5 }, () => clock.next());
    expect(values).toEqual([
      1_700_000_000_000_000, 1_700_000_000_000_001, 1_700_000_000_000_002, 1_700_000_000_000_003,
      1_700_000_000_000_004,
    ]);
  });

  it('starts a restarted agent above what it sent before, without any state of its own', () => {
    let now = 1_700_000_000_000;
    const before = new SequenceClock(0, () => now);
    let last = 0;
    for (let i = 0; i < 1_000; i += 1) last = before.next();
    now += 50;
    // A restart: only the node's latest sequence for the pool (from RegisterPool) is known.
    const after = new SequenceClock(last, () => now);
    expect(after.next()).toBeGreaterThan(last);
  });

  it('never goes backwards when the clock does', () => {
    let now = 1_700_000_000_000;
    const first = new SequenceClock(0, () => now);
    const sent = first.next();
    now -= 3_600_000;
    const restarted = new SequenceClock(sent, () => now);
    const next = restarted.next();
    expect(next).toBe(sent + 1);
    expect(Number.isSafeInteger(next)).toBe(true);
  });
});
