import { RefusalAuditBudget, refusalSource, type SuppressedRefusals } from './refusal-audit-budget';

describe(RefusalAuditBudget.name, () => {
  it('records each address’s first refusals of a minute, then counts the rest, and says so', () => {
    let now = 0;
    const budget = new RefusalAuditBudget(3, () => now);
    const closed: SuppressedRefusals[] = [];
    const over: string[] = [];
    const admit = (address: string) =>
      budget.admit(
        address,
        (s) => closed.push(new Map(s)),
        (a) => over.push(a),
      );
    expect([1, 2, 3, 4, 5].map(() => admit('203.0.113.9'))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(over).toEqual(['203.0.113.9']);
    // Another address has its own budget.
    expect(admit('198.51.100.7')).toBe(true);
    now = 59_999;
    expect(admit('203.0.113.9')).toBe(false);
    expect(closed).toEqual([]);
    // The next minute: the summary of the last one, and a fresh budget.
    now = 60_000;
    expect(admit('203.0.113.9')).toBe(true);
    expect(closed).toEqual([new Map([['203.0.113.9', 3]])]);
  });

  it('keeps its memory bounded: past 10,000 addresses in a minute the rest share one budget', () => {
    const budget = new RefusalAuditBudget(1, () => 0, Infinity);
    const over: string[] = [];
    for (let i = 0; i < 10_000; i += 1)
      expect(
        budget.admit(
          `10.0.${i >> 8}.${i & 255}`,
          () => undefined,
          (a) => over.push(a),
        ),
      ).toBe(true);
    expect(
      budget.admit(
        '192.0.2.1',
        () => undefined,
        (a) => over.push(a),
      ),
    ).toBe(true);
    expect(
      budget.admit(
        '192.0.2.2',
        () => undefined,
        (a) => over.push(a),
      ),
    ).toBe(false);
    expect(over).toEqual(['(other sources)']);
  });

  it('records every refusal when the budget is 0', () => {
    const budget = new RefusalAuditBudget(0, () => 0);
    for (let i = 0; i < 1_000; i += 1)
      expect(
        budget.admit(
          '203.0.113.9',
          () => undefined,
          () => undefined,
        ),
      ).toBe(true);
  });

  it('counts an IPv6 /64 as one source, and caps all sources together', () => {
    expect(refusalSource('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(refusalSource('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(refusalSource('fe80::')).toBe('fe80:0:0:0::/64');
    expect(refusalSource('::1')).toBe('0:0:0:0::/64');
    expect(refusalSource('203.0.113.9')).toBe('203.0.113.9');
    const budget = new RefusalAuditBudget(2, () => 0, 5);
    const over: string[] = [];
    const admit = (address: string) =>
      budget.admit(
        address,
        () => undefined,
        (a) => over.push(a),
      );
    // Many addresses of one /64 share its budget.
    expect(['2001:db8::1', '2001:db8::2', '2001:db8::3'].map(admit)).toEqual([true, true, false]);
    // Five recorded in all: the next sources find the total spent.
    expect(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map(admit)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(over).toEqual(['2001:db8:0:0::/64', '(all sources)']);
  });

  describe('summaries on a clock (a budget of 1 a minute, fake timers)', () => {
    let budget: RefusalAuditBudget;
    let closed: SuppressedRefusals[];
    const admit = (source: string) =>
      budget.admit(
        source,
        (s) => closed.push(new Map(s)),
        () => undefined,
      );

    beforeEach(() => {
      jest.useFakeTimers({ now: 1_000_000 });
      budget = new RefusalAuditBudget(1, () => Date.now());
      closed = [];
    });

    afterEach(() => jest.useRealTimers());

    it('writes a minute’s summary when the minute ends, once, even if no refusal follows', () => {
      expect([admit('p-1 RATE_LIMITED'), admit('p-1 RATE_LIMITED')]).toEqual([true, false]);
      jest.advanceTimersByTime(59_999);
      expect(closed).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(closed).toEqual([new Map([['p-1 RATE_LIMITED', 1]])]);
      // The next refusal starts a new minute without repeating the summary.
      expect(admit('p-1 RATE_LIMITED')).toBe(true);
      expect(closed).toHaveLength(1);
    });

    it('writes what a minute left out so far when it is closed, once, and no timer outlives it', () => {
      budget.close();
      expect(closed).toEqual([]);
      expect([
        admit('p-1 RATE_LIMITED'),
        admit('p-1 RATE_LIMITED'),
        admit('p-1 RATE_LIMITED'),
      ]).toEqual([true, false, false]);
      jest.advanceTimersByTime(10_000);
      budget.close();
      expect(closed).toEqual([new Map([['p-1 RATE_LIMITED', 2]])]);
      expect(jest.getTimerCount()).toBe(0);
      budget.close();
      jest.advanceTimersByTime(60_000);
      expect(closed).toHaveLength(1);
    });
  });
});
