import { dayOutcome } from './compliance.service';

const at = (iso: string) => ({ reportId: iso, receivedAt: new Date(iso) });

describe(dayOutcome.name, () => {
  it('puts a report received at 07:00 CST in the morning window and meets the day', () => {
    const outcome = dayOutcome('2026-12-01', [at('2026-12-01T07:00:00.000+08:00')]);
    expect(outcome.met).toBe(true);
    expect(outcome.windows.map((w) => [w.window, w.received.length])).toEqual([
      ['morning', 1],
      ['noon', 0],
      ['evening', 0],
    ]);
    expect(outcome.outsideWindows).toBe(0);
  });

  it('counts a report received at the closing minute as outside, and misses the day', () => {
    const outcome = dayOutcome('2026-12-01', [
      at('2026-12-01T08:00:00.000+08:00'),
      at('2026-12-01T20:00:00.000+08:00'),
      at('2026-12-01T11:59:59.999+08:00'),
    ]);
    expect(outcome.met).toBe(false);
    expect(outcome.outsideWindows).toBe(3);
  });

  it('records every window a report arrived in', () => {
    const outcome = dayOutcome('2026-12-01', [
      at('2026-12-01T12:30:00+08:00'),
      at('2026-12-01T19:59:59.999+08:00'),
    ]);
    expect(outcome.windows.map((w) => w.received.map((r) => r.reportId))).toEqual([
      [],
      ['2026-12-01T12:30:00+08:00'],
      ['2026-12-01T19:59:59.999+08:00'],
    ]);
  });
});
