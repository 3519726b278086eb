import { hasRole, type Caller, type Role } from '@cinode/auth';
import { identifierNotVisible, notOwner } from '../errors';
import type { IdentifierEntity } from '../identifiers/identifier.entity';

/**
 * Who may do what with identifiers, in one place: the roles each RPC admits (its `@AllowRoles`)
 * and the per-object rules the features apply once the caller is admitted. A participant acts
 * through its tenant (a participant's users share it), never through its subject.
 */

/** Participant roles: they act on their own identifiers only. */
const PARTICIPANT_ROLES = [
  'provider',
  'reseller',
  'application_provider',
  'line_provider',
  'user',
] as const satisfies readonly Role[];

/** IssueIdentifier: participants for themselves; operators and cinode's own services for any owner. */
export const ISSUE_ROLES: readonly Role[] = ['operator', 'service', ...PARTICIPANT_ROLES];
/** SuspendIdentifier, ReinstateIdentifier. */
export const SUSPEND_ROLES: readonly Role[] = ['operator'];
/** RetireIdentifier: operators, or participants for their own identifiers. */
export const RETIRE_ROLES: readonly Role[] = ['operator', ...PARTICIPANT_ROLES];

/** Acts for any owner: operators, and `service` for cinode's services issuing on a provider's behalf. */
export function actsForAnyOwner(caller: Caller): boolean {
  return hasRole(caller, 'operator', 'service');
}

/** Sees every identifier in every state. */
export function seesEveryIdentifier(caller: Caller): boolean {
  return hasRole(caller, 'operator', 'regulator', 'service');
}

/** The owner a new identifier is issued for: the named one, or the caller's own tenant. */
export function issuingOwner(caller: Caller, requestedOwner: string): string {
  const owner = requestedOwner || caller.tenant;
  if (!actsForAnyOwner(caller) && owner !== caller.tenant)
    throw notOwner('a participant may issue identifiers only for its own objects');
  return owner;
}

/** A FILED identifier is public to any authenticated caller; in other states only to its owner and overseers. */
export function assertMayResolve(caller: Caller, entity: IdentifierEntity): void {
  if (
    entity.state !== 'filed' &&
    !seesEveryIdentifier(caller) &&
    entity.ownerParticipantId !== caller.tenant
  )
    throw identifierNotVisible(entity.identifier);
}

/** The owner filter of a listing: a participant's own tenant whatever it asked; overseers choose. */
export function listedOwner(caller: Caller, requestedOwner: string): string | undefined {
  if (seesEveryIdentifier(caller)) return requestedOwner || undefined;
  if (requestedOwner && requestedOwner !== caller.tenant)
    throw notOwner('participants may list only their own identifiers');
  return caller.tenant;
}

export function assertMayRetire(caller: Caller, entity: IdentifierEntity): void {
  if (!actsForAnyOwner(caller) && entity.ownerParticipantId !== caller.tenant)
    throw notOwner('only the owner or an operator may retire an identifier');
}
