import { FieldChecks } from '@cinode/common';

const HOLD_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks a hold's id, or an allocation's (the same id): a lower-case UUID. */
export function checkHoldId(checks: FieldChecks, field: string, value: string): string {
  checks.text(field, value, {
    max: 36,
    pattern: HOLD_ID_PATTERN,
    patternHint: 'must be a lower-case UUID',
  });
  return value;
}

export function holdIdOf(value: string): string {
  const checks = new FieldChecks();
  checkHoldId(checks, 'hold_id', value);
  checks.throwIfAny();
  return value;
}
