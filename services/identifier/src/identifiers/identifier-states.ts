import { IDENTIFIER_STATES, SUSPENSION_CAUSES } from '@cinode/contracts';
import { invalidTransition } from '../errors';

/** The states and suspension causes as the identifier events carry them (one definition). */
export { IDENTIFIER_STATES, SUSPENSION_CAUSES };
export type IdentifierStateName = (typeof IDENTIFIER_STATES)[number];
export type SuspensionCauseName = (typeof SUSPENSION_CAUSES)[number];

/**
 * Every allowed move. `pending_filing -> retired` is allowed only for a filing the national node
 * rejected; the retire rule checks that extra condition.
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
  if (!canTransition(from, to)) throw invalidTransition(identifier, from, to);
}
