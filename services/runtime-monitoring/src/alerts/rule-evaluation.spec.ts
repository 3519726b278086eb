import type { SeriesPointRow } from '../series/series.repository';
import { evaluateRule } from './rule-evaluation';

const MINUTE = 60_000;
const now = Date.parse('2026-06-01T08:10:30Z');
const minute = (ago: number) => new Date(Math.floor(now / MINUTE) * MINUTE - ago * MINUTE);

function point(
  ago: number,
  value: number,
  kind: SeriesPointRow['kind'] = 'gauge',
  regionCode = '*',
): SeriesPointRow {
  return {
    resolution: 'minute',
    domain: 'resource',
    metric: 'pools_offline',
    regionCode,
    accelerator: '*',
    service: '',
    kindLabel: '',
    bucketStart: minute(ago),
    kind,
    count: kind === 'counter' ? 1 : 2,
    sum: kind === 'counter' ? value : value * 2,
    min: value,
    max: value,
    last: value,
  };
}

const above = (threshold: number, forMinutes: number) => ({
  comparison: 'above' as const,
  threshold,
  forMinutes,
});

describe('evaluateRule', () => {
  it('breaches only when every minute of the window breaches', () => {
    expect(
      evaluateRule(above(0, 3), [point(0, 1), point(1, 2), point(2, 1)], now)[0].breaching,
    ).toBe(true);
    expect(
      evaluateRule(above(0, 3), [point(0, 1), point(1, 0), point(2, 1)], now)[0].breaching,
    ).toBe(false);
  });

  it('ends the window at the minute before when the current one has no sample yet', () => {
    const [verdict] = evaluateRule(above(0, 2), [point(1, 3), point(2, 3)], now);
    expect(verdict).toMatchObject({ breaching: true, value: 3 });
  });

  it('compares the newest sample of a level, so it resolves when the level is back', () => {
    const back = { ...point(0, 1), last: 0 };
    expect(evaluateRule(above(0, 1), [back], now)[0]).toMatchObject({ breaching: false, value: 0 });
  });

  it('takes a missing minute of a level as no data, and of a counter as zero', () => {
    expect(evaluateRule(above(0, 3), [point(0, 1), point(2, 1)], now)[0].breaching).toBe(false);
    const below = { comparison: 'below' as const, threshold: 1, forMinutes: 3 };
    expect(
      evaluateRule(below, [point(0, 0, 'counter'), point(3, 5, 'counter')], now)[0].breaching,
    ).toBe(true);
  });

  it('judges each series on its own', () => {
    const verdicts = evaluateRule(
      above(0, 1),
      [point(0, 1, 'gauge', '310000'), point(0, 0, 'gauge', '110000')],
      now,
    );
    expect(verdicts.map((v) => [v.regionCode, v.breaching])).toEqual([
      ['310000', true],
      ['110000', false],
    ]);
  });
});
