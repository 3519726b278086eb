import type { SeriesPointRow } from '../series/series.repository';
import type { AlertRule } from './alert-rule-input';

const MINUTE_MS = 60_000;

/** One series a rule looks at, and whether it breaches now. */
export interface SeriesVerdict {
  seriesKey: string;
  regionCode: string;
  accelerator: string;
  service: string;
  kindLabel: string;
  breaching: boolean;
  /** The newest minute's value (0 for a counter without a point). */
  value: number;
}

export function seriesKeyOf(point: {
  regionCode: string;
  accelerator: string;
  service: string;
  kindLabel: string;
}): string {
  return [point.regionCode, point.accelerator, point.service, point.kindLabel].join('|');
}

/** A point's value: the sum for counters, the mean of its samples otherwise. */
export function valueOf(point: Pick<SeriesPointRow, 'kind' | 'sum' | 'count'>): number {
  if (point.kind === 'counter') return point.sum;
  return point.count > 0 ? point.sum / point.count : 0;
}

/**
 * What a rule compares for a minute: the count of a counter, the newest sample of a level (so an
 * alert resolves as soon as the level is back, not a minute later), the mean of durations.
 */
export function ruleValueOf(
  point: Pick<SeriesPointRow, 'kind' | 'sum' | 'count' | 'last'>,
): number {
  return point.kind === 'gauge' ? point.last : valueOf(point);
}

function breaches(rule: Pick<AlertRule, 'comparison' | 'threshold'>, value: number): boolean {
  return rule.comparison === 'above' ? value > rule.threshold : value < rule.threshold;
}

/** The first minute the evaluation of `rule` at `now` may read. */
export function windowStart(rule: Pick<AlertRule, 'forMinutes'>, now: number): Date {
  const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  return new Date(current - rule.forMinutes * MINUTE_MS);
}

/**
 * Which series breach `rule` at `now`, from their one-minute points since windowStart. A series
 * breaches when each of the rule's last `forMinutes` minutes breaches. The window ends at the
 * current minute when it has a point, else at the one before (a level is sampled a few times a
 * minute, so the current minute may have none yet, and an alert must not flap each minute). A
 * counter's minute without a point is 0; a level's minute without one breaks the run (no data is
 * no breach).
 */
export function evaluateRule(
  rule: Pick<AlertRule, 'comparison' | 'threshold' | 'forMinutes'>,
  points: readonly SeriesPointRow[],
  now: number,
): SeriesVerdict[] {
  const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const bySeries = new Map<string, Map<number, SeriesPointRow>>();
  const first = new Map<string, SeriesPointRow>();
  for (const point of points) {
    const key = seriesKeyOf(point);
    let minutes = bySeries.get(key);
    if (!minutes) {
      minutes = new Map<number, SeriesPointRow>();
      bySeries.set(key, minutes);
      first.set(key, point);
    }
    minutes.set(point.bucketStart.getTime(), point);
  }
  const verdicts: SeriesVerdict[] = [];
  for (const [key, minutes] of bySeries) {
    const sample = first.get(key) as SeriesPointRow;
    const counter = sample.kind === 'counter';
    const end = minutes.has(current) ? current : current - MINUTE_MS;
    let breaching = true;
    let value = 0;
    for (let i = 0; i < rule.forMinutes; i += 1) {
      const minute = end - i * MINUTE_MS;
      const point = minutes.get(minute);
      const v = point ? ruleValueOf(point) : counter ? 0 : undefined;
      if (i === 0) value = v ?? 0;
      if (v === undefined || !breaches(rule, v)) {
        breaching = false;
        if (i > 0) break;
      }
    }
    verdicts.push({
      seriesKey: key,
      regionCode: sample.regionCode,
      accelerator: sample.accelerator,
      service: sample.service,
      kindLabel: sample.kindLabel,
      breaching,
      value,
    });
  }
  return verdicts;
}
