import { hasRole, type Caller } from '@cinode/auth';
import { PermissionDeniedError } from '@cinode/common';
import { ANONYMOUS_SCOPE } from '@cinode/database';
import { ErrorReason } from './errors';

/** Operators, regulators and cinode's own services read every participant's records. */
export function readsEverything(caller: Caller): boolean {
  return hasRole(caller, 'operator', 'regulator', 'service');
}

/**
 * Participants read only their own records. Refused as PERMISSION_DENIED before any lookup (AIP-211):
 * the answer is the same whether or not the other participant exists, so it reveals nothing, and a
 * caller that mistyped its own id learns why instead of seeing a misleading NOT_FOUND.
 */
export function assertMayRead(caller: Caller, participantId: string): void {
  if (readsEverything(caller) || caller.tenant === participantId) return;
  throw new PermissionDeniedError(
    ErrorReason.NOT_OWN_RECORD,
    'participants may read only their own records',
  );
}

/** Operators change any participant's records; a participant changes only its own. */
export function assertMayChange(caller: Caller, participantId: string): void {
  if (hasRole(caller, 'operator') || caller.tenant === participantId) return;
  throw new PermissionDeniedError(
    ErrorReason.NOT_OWN_RECORD,
    'participants may change only their own records',
  );
}

/** Who did it, for transition rows and events. */
export function actorOf(caller: Caller | undefined): string {
  return caller?.subject ?? 'anonymous';
}

/** The idempotency scope of a caller: request ids are unique per caller (docs in the protos). */
export function requestScopeOf(caller: Caller): string {
  return caller.subject;
}

/**
 * The idempotency scope of a request without a token. Such callers cannot be told apart, so the
 * scope is the content itself: a retry of the same registration finds its key, and nobody can
 * squat a request id another registrant might pick, or learn from REQUEST_ID_REUSED that it is
 * in use.
 */
export function anonymousRequestScope(fingerprint: string): string {
  return `${ANONYMOUS_SCOPE}:${fingerprint}`;
}
