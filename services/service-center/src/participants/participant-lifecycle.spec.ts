import { FailedPreconditionError } from '@cinode/common';
import { ParticipantState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { transitionOf, type ParticipantAction } from './participant-lifecycle';

const S = ParticipantState;

describe('participant state machine', () => {
  const legal: [ParticipantState, ParticipantAction, ParticipantState, string][] = [
    [S.PARTICIPANT_STATE_UNSPECIFIED, 'register', S.PARTICIPANT_STATE_SUBMITTED, 'registered'],
    [
      S.PARTICIPANT_STATE_SUBMITTED,
      'start_review',
      S.PARTICIPANT_STATE_UNDER_REVIEW,
      'review-started',
    ],
    [S.PARTICIPANT_STATE_UNDER_REVIEW, 'certify', S.PARTICIPANT_STATE_CERTIFIED, 'certified'],
    [S.PARTICIPANT_STATE_UNDER_REVIEW, 'reject', S.PARTICIPANT_STATE_REJECTED, 'rejected'],
    [S.PARTICIPANT_STATE_CERTIFIED, 'suspend', S.PARTICIPANT_STATE_SUSPENDED, 'suspended'],
    [S.PARTICIPANT_STATE_SUSPENDED, 'reinstate', S.PARTICIPANT_STATE_CERTIFIED, 'reinstated'],
    [S.PARTICIPANT_STATE_REJECTED, 'resubmit', S.PARTICIPANT_STATE_SUBMITTED, 'registered'],
    [S.PARTICIPANT_STATE_SUBMITTED, 'revoke', S.PARTICIPANT_STATE_REVOKED, 'revoked'],
    [S.PARTICIPANT_STATE_UNDER_REVIEW, 'revoke', S.PARTICIPANT_STATE_REVOKED, 'revoked'],
    [S.PARTICIPANT_STATE_CERTIFIED, 'revoke', S.PARTICIPANT_STATE_REVOKED, 'revoked'],
    [S.PARTICIPANT_STATE_SUSPENDED, 'revoke', S.PARTICIPANT_STATE_REVOKED, 'revoked'],
    [S.PARTICIPANT_STATE_REJECTED, 'revoke', S.PARTICIPANT_STATE_REVOKED, 'revoked'],
  ];

  it.each(legal)('allows %s --%s--> %s, announced as %s', (from, action, to, verb) => {
    const { to: next, event } = transitionOf(from, action);
    expect(next).toBe(to);
    expect(event.type).toBe(`cinode.participant.participant.${verb}`);
  });

  it('refuses every other transition, naming the current state', () => {
    const actions: ParticipantAction[] = [
      'register',
      'start_review',
      'certify',
      'reject',
      'suspend',
      'reinstate',
      'revoke',
      'resubmit',
    ];
    const states = [0, 1, 2, 3, 4, 5, 6] as ParticipantState[];
    let refused = 0;
    for (const from of states) {
      for (const action of actions) {
        if (legal.some(([f, a]) => f === from && a === action)) continue;
        let error: unknown;
        try {
          transitionOf(from, action);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(FailedPreconditionError);
        expect((error as FailedPreconditionError).metadata.current_state).toBe(
          ParticipantState[from],
        );
        refused++;
      }
    }
    expect(refused).toBe(states.length * actions.length - legal.length);
  });
});
