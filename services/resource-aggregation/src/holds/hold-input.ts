import { FieldChecks, LOWER_CASE_UUID } from '@cinode/common';

/** Checks a hold's id, or an allocation's (the same id): a lower-case UUID. */
export function checkHoldId(checks: FieldChecks, field: string, value: string): string {
  checks.text(field, value, {
    max: 36,
    pattern: LOWER_CASE_UUID,
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
