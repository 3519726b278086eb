/**
 * The service center's participant states, normalised: lower case, without an enum prefix, so
 * "CERTIFIED", "certified" and "PARTICIPANT_STATE_CERTIFIED" are the same state.
 */
export function normaliseParticipantState(state: string): string {
  return state
    .trim()
    .toLowerCase()
    .replace(/^participant_state_/, '');
}

export function isCertifiedState(state: string | undefined): boolean {
  return state !== undefined && normaliseParticipantState(state) === 'certified';
}

/** Owners in these states may not hold active identifiers. */
export function isActiveOwnerState(state: string): boolean {
  const normalised = normaliseParticipantState(state);
  return normalised !== 'suspended' && normalised !== 'revoked';
}
