import { computeBackoff } from './backoff';

describe('computeBackoff', () => {
  const policy = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 };

  it('doubles the delay with each attempt', () => {
    expect([1, 2, 3, 4].map((n) => computeBackoff(n, policy))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the maximum, even for huge attempt counts', () => {
    expect(computeBackoff(5, policy)).toBe(1_000);
    expect(computeBackoff(10_000, policy)).toBe(1_000);
  });

  it('treats attempts below one as the first', () => {
    expect(computeBackoff(0, policy)).toBe(100);
    expect(computeBackoff(-3, policy)).toBe(100);
  });

  it('removes at most the jitter fraction of the delay', () => {
    const jittered = { ...policy, jitter: 0.25 };
    expect(computeBackoff(2, jittered, () => 0)).toBe(200);
    expect(computeBackoff(2, jittered, () => 0.999999)).toBe(150);
    expect(computeBackoff(2, jittered, () => 0.5)).toBe(175);
  });
});
