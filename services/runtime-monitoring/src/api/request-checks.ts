import { FieldChecks } from '@cinode/common';
import type { Timestamp } from '@cinode/proto/gen/google/protobuf/timestamp';
import { dateOf } from './monitoring.mapper';

const REGION = /^(\d{6}|\*)$/;
const NAME = /^[A-Za-z0-9*][A-Za-z0-9._*:-]{0,63}$/;

/** A dimension filter: empty, or what the dimension can hold. */
export function checkDimension(
  checks: FieldChecks,
  field: string,
  value: string,
  kind: 'region' | 'name',
): void {
  checks.text(field, value, {
    required: false,
    max: kind === 'region' ? 6 : 64,
    pattern: kind === 'region' ? REGION : NAME,
    patternHint:
      kind === 'region'
        ? "must be a six-digit region code or '*'"
        : "must be letters, digits, '.', '_', ':', '*' or '-'",
  });
}

/**
 * A time range from optional timestamps: end defaults to now, start to `defaultSpanMs` before end;
 * start must come before end and the span stay within `maxSpanMs`.
 */
export function timeRange(
  checks: FieldChecks,
  prefix: string,
  start: Timestamp | undefined | null,
  end: Timestamp | undefined | null,
  defaultSpanMs: number,
  maxSpanMs: number,
): { start: Date; end: Date } {
  checks.timestamp(`${prefix}start_time`, start, { required: false });
  checks.timestamp(`${prefix}end_time`, end, { required: false });
  if (!checks.ok) return { start: new Date(0), end: new Date(0) };
  const endDate = dateOf(end) ?? new Date();
  const startDate = dateOf(start) ?? new Date(endDate.getTime() - defaultSpanMs);
  if (startDate.getTime() >= endDate.getTime())
    checks.add(`${prefix}start_time`, 'must be before end_time');
  else if (endDate.getTime() - startDate.getTime() > maxSpanMs)
    checks.add(
      `${prefix}end_time`,
      `must be at most ${Math.round(maxSpanMs / 86_400_000)} days after start_time`,
    );
  return { start: startDate, end: endDate };
}
