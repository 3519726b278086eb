import { FieldChecks } from '@cinode/common';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fields every feature's requests share. */
export function checkRequestId(checks: FieldChecks, value: string): void {
  checks.text('request_id', value, {
    max: 64,
    pattern: REQUEST_ID,
    patternHint: "must be 1 to 64 letters, digits, '.', '_', ':' or '-'",
  });
}

/** A UUID-shaped id field (participants, qualifications, API keys). */
export function checkUuid(checks: FieldChecks, field: string, value: string, what: string): void {
  checks.text(field, value, { max: 36, pattern: UUID, patternHint: `must be ${what} (UUID)` });
}

export function checkParticipantId(id: string, field = 'participant_id'): void {
  const checks = new FieldChecks();
  checkUuid(checks, field, id, 'a participant id');
  checks.throwIfAny();
}
