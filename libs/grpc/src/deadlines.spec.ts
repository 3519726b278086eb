import { effectiveBudgetMs, type DeadlinePolicy } from './deadlines';

const policy: DeadlinePolicy = { defaultMs: 300, maxMs: 5_000 };
const NOW = 1_700_000_000_000;

describe(effectiveBudgetMs.name, () => {
  it('gives a call without a deadline the default budget', () => {
    expect(effectiveBudgetMs(undefined, policy, NOW)).toBe(300);
    // grpc-js reports "no deadline" as Infinity.
    expect(effectiveBudgetMs(Infinity, policy, NOW)).toBe(300);
    expect(effectiveBudgetMs(new Date(Number.NaN), policy, NOW)).toBe(300);
  });

  it('honours a deadline within the maximum, as a Date or as epoch milliseconds', () => {
    expect(effectiveBudgetMs(new Date(NOW + 1_234), policy, NOW)).toBe(1_234);
    expect(effectiveBudgetMs(NOW + 4_999, policy, NOW)).toBe(4_999);
  });

  it('honours a deadline shorter than the default budget', () => {
    expect(effectiveBudgetMs(NOW + 50, policy, NOW)).toBe(50);
  });

  it('cuts a deadline beyond the maximum to the maximum', () => {
    expect(effectiveBudgetMs(new Date(NOW + 60_000), policy, NOW)).toBe(5_000);
  });

  it('leaves nothing for a deadline already passed', () => {
    expect(effectiveBudgetMs(NOW - 10, policy, NOW)).toBe(0);
  });
});
