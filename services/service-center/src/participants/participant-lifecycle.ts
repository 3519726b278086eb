import { FailedPreconditionError } from '@cinode/common';
import {
  ParticipantCertified,
  ParticipantRegistered,
  ParticipantReinstated,
  ParticipantRejected,
  ParticipantRevoked,
  ParticipantSuspended,
  ParticipantUnderReview,
  type PARTICIPANT_LIFECYCLE_EVENTS,
} from '@cinode/contracts';
import { ParticipantState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { ErrorReason } from '../errors';

/** What registration, an operator or a resubmitting participant asks the state machine to do. */
export type ParticipantAction =
  | 'register'
  | 'start_review'
  | 'certify'
  | 'reject'
  | 'suspend'
  | 'reinstate'
  | 'revoke'
  | 'resubmit';

const S = ParticipantState;
type LifecycleEvent = (typeof PARTICIPANT_LIFECYCLE_EVENTS)[number];

/** The states each action may start from, where it leads, and the event it emits. */
const TRANSITIONS: Record<
  ParticipantAction,
  { from: readonly ParticipantState[]; to: ParticipantState; event: LifecycleEvent }
> = {
  register: {
    from: [S.PARTICIPANT_STATE_UNSPECIFIED],
    to: S.PARTICIPANT_STATE_SUBMITTED,
    event: ParticipantRegistered,
  },
  start_review: {
    from: [S.PARTICIPANT_STATE_SUBMITTED],
    to: S.PARTICIPANT_STATE_UNDER_REVIEW,
    event: ParticipantUnderReview,
  },
  certify: {
    from: [S.PARTICIPANT_STATE_UNDER_REVIEW],
    to: S.PARTICIPANT_STATE_CERTIFIED,
    event: ParticipantCertified,
  },
  reject: {
    from: [S.PARTICIPANT_STATE_UNDER_REVIEW],
    to: S.PARTICIPANT_STATE_REJECTED,
    event: ParticipantRejected,
  },
  suspend: {
    from: [S.PARTICIPANT_STATE_CERTIFIED],
    to: S.PARTICIPANT_STATE_SUSPENDED,
    event: ParticipantSuspended,
  },
  reinstate: {
    from: [S.PARTICIPANT_STATE_SUSPENDED],
    to: S.PARTICIPANT_STATE_CERTIFIED,
    event: ParticipantReinstated,
  },
  revoke: {
    from: [
      S.PARTICIPANT_STATE_SUBMITTED,
      S.PARTICIPANT_STATE_UNDER_REVIEW,
      S.PARTICIPANT_STATE_CERTIFIED,
      S.PARTICIPANT_STATE_SUSPENDED,
      S.PARTICIPANT_STATE_REJECTED,
    ],
    to: S.PARTICIPANT_STATE_REVOKED,
    event: ParticipantRevoked,
  },
  // A resubmission is a registration again, for the consumers too.
  resubmit: {
    from: [S.PARTICIPANT_STATE_REJECTED],
    to: S.PARTICIPANT_STATE_SUBMITTED,
    event: ParticipantRegistered,
  },
};

export function stateName(state: ParticipantState): string {
  return ParticipantState[state] ?? `UNKNOWN_${String(state)}`;
}

/** "CERTIFIED" for PARTICIPANT_STATE_CERTIFIED: the form event payloads carry. */
export function shortStateName(state: ParticipantState): string {
  return stateName(state).replace(/^PARTICIPANT_STATE_/, '');
}

/**
 * The state an action leads to from `current` and the event that announces it, or
 * FAILED_PRECONDITION naming the current state.
 */
export function transitionOf(
  current: ParticipantState,
  action: ParticipantAction,
): { to: ParticipantState; event: LifecycleEvent } {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) {
    throw new FailedPreconditionError(
      ErrorReason.INVALID_TRANSITION,
      `cannot ${action.replace('_', ' ')} a participant in state ${stateName(current)}`,
      { metadata: { current_state: stateName(current), action } },
    );
  }
  return { to: rule.to, event: rule.event };
}
