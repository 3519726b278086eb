import { FailedPreconditionError, assertUnreachable } from '@cinode/common';
import { ParticipantState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';

/** What an operator (or a resubmitting participant) asks the state machine to do. */
export type CertificationAction =
  | 'start_review'
  | 'certify'
  | 'reject'
  | 'suspend'
  | 'reinstate'
  | 'revoke'
  | 'resubmit';

export const CertificationErrorReason = { INVALID_TRANSITION: 'INVALID_TRANSITION' } as const;

const S = ParticipantState;

/** The states each action may start from, and where it leads (issue 3). */
const TRANSITIONS: Record<
  CertificationAction,
  { from: readonly ParticipantState[]; to: ParticipantState }
> = {
  start_review: { from: [S.PARTICIPANT_STATE_SUBMITTED], to: S.PARTICIPANT_STATE_UNDER_REVIEW },
  certify: { from: [S.PARTICIPANT_STATE_UNDER_REVIEW], to: S.PARTICIPANT_STATE_CERTIFIED },
  reject: { from: [S.PARTICIPANT_STATE_UNDER_REVIEW], to: S.PARTICIPANT_STATE_REJECTED },
  suspend: { from: [S.PARTICIPANT_STATE_CERTIFIED], to: S.PARTICIPANT_STATE_SUSPENDED },
  reinstate: { from: [S.PARTICIPANT_STATE_SUSPENDED], to: S.PARTICIPANT_STATE_CERTIFIED },
  revoke: {
    from: [
      S.PARTICIPANT_STATE_SUBMITTED,
      S.PARTICIPANT_STATE_UNDER_REVIEW,
      S.PARTICIPANT_STATE_CERTIFIED,
      S.PARTICIPANT_STATE_SUSPENDED,
      S.PARTICIPANT_STATE_REJECTED,
    ],
    to: S.PARTICIPANT_STATE_REVOKED,
  },
  resubmit: { from: [S.PARTICIPANT_STATE_REJECTED], to: S.PARTICIPANT_STATE_SUBMITTED },
};

export function stateName(state: ParticipantState): string {
  return ParticipantState[state] ?? `UNKNOWN_${String(state)}`;
}

/** The state an action leads to from `current`, or FAILED_PRECONDITION naming the current state. */
export function nextState(
  current: ParticipantState,
  action: CertificationAction,
): ParticipantState {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) {
    throw new FailedPreconditionError(
      CertificationErrorReason.INVALID_TRANSITION,
      `cannot ${action.replace('_', ' ')} a participant in state ${stateName(current)}`,
      { metadata: { current_state: stateName(current), action } },
    );
  }
  return rule.to;
}

/** The event subject of a transition into `to` (docs in the service README). */
export function transitionEventType(to: ParticipantState): string | undefined {
  switch (to) {
    case S.PARTICIPANT_STATE_SUBMITTED:
      return 'cinode.participant.participant.registered';
    case S.PARTICIPANT_STATE_CERTIFIED:
      return undefined;
    case S.PARTICIPANT_STATE_REJECTED:
      return 'cinode.participant.participant.rejected';
    case S.PARTICIPANT_STATE_SUSPENDED:
      return 'cinode.participant.participant.suspended';
    case S.PARTICIPANT_STATE_REVOKED:
      return 'cinode.participant.participant.revoked';
    case S.PARTICIPANT_STATE_UNDER_REVIEW:
    case S.PARTICIPANT_STATE_UNSPECIFIED:
      return undefined;
    default:
      return assertUnreachable(to, 'participant state');
  }
}

/** certify and reinstate both end in CERTIFIED but mean different things to consumers. */
export function eventTypeOf(action: CertificationAction, to: ParticipantState): string | undefined {
  if (action === 'certify') return 'cinode.participant.participant.certified';
  if (action === 'reinstate') return 'cinode.participant.participant.reinstated';
  return transitionEventType(to);
}

/** "CERTIFIED" for PARTICIPANT_STATE_CERTIFIED: the form event payloads carry. */
export function shortStateName(state: ParticipantState): string {
  return stateName(state).replace(/^PARTICIPANT_STATE_/, '');
}
