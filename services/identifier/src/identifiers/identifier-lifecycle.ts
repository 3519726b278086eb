import { FailedPreconditionError } from '@cinode/common';

export const IDENTIFIER_STATES = [
  'reserved',
  'pending_filing',
  'filed',
  'suspended',
  'retired',
] as const;
export type IdentifierStateName = (typeof IDENTIFIER_STATES)[number];

export const SUSPENSION_CAUSES = ['operator', 'owner_suspended', 'owner_revoked'] as const;
export type SuspensionCauseName = (typeof SUSPENSION_CAUSES)[number];

export enum IdentifierErrorReason {
  IDENTIFIER_NOT_FOUND = 'IDENTIFIER_NOT_FOUND',
  INVALID_TRANSITION = 'INVALID_TRANSITION',
  NODE_NOT_REGISTERED = 'NODE_NOT_REGISTERED',
  OWNER_NOT_CERTIFIED = 'OWNER_NOT_CERTIFIED',
  OWNER_NOT_ACTIVE = 'OWNER_NOT_ACTIVE',
  NOT_OWNER = 'NOT_OWNER',
  IDENTIFIER_NOT_VISIBLE = 'IDENTIFIER_NOT_VISIBLE',
  REQUEST_ID_REUSED = 'REQUEST_ID_REUSED',
  SERIALS_EXHAUSTED = 'SERIALS_EXHAUSTED',
}

/**
 * Every allowed move. `pending_filing -> retired` is allowed only for a filing the national node
 * rejected; IdentifiersService checks that extra condition.
 */
const ALLOWED: Readonly<Record<IdentifierStateName, readonly IdentifierStateName[]>> = {
  reserved: ['pending_filing'],
  pending_filing: ['filed', 'retired'],
  filed: ['suspended', 'retired'],
  suspended: ['filed', 'retired'],
  retired: [],
};

export function canTransition(from: IdentifierStateName, to: IdentifierStateName): boolean {
  return ALLOWED[from].includes(to);
}

/** Throws FAILED_PRECONDITION naming the current state when the move is not allowed. */
export function assertTransition(
  identifier: string,
  from: IdentifierStateName,
  to: IdentifierStateName,
): void {
  if (!canTransition(from, to)) {
    throw new FailedPreconditionError(
      IdentifierErrorReason.INVALID_TRANSITION,
      `identifier ${identifier} is ${from.toUpperCase()} and cannot become ${to.toUpperCase()}`,
      { metadata: { current_state: from.toUpperCase(), requested_state: to.toUpperCase() } },
    );
  }
}
