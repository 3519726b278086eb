import type { Caller } from '@cinode/auth';
import { FailedPreconditionError } from '@cinode/common';
import {
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import type { ApiKeyEntity } from '../api-keys/api-key.entity';
import type { PendingEvent } from '../outbox-events';
import { rolesOfKind } from '../participants/participant-roles';
import type { ParticipantEntity } from '../participants/participant.entity';
import type { CertificationEventEntity } from './certification-event.entity';
import { nextState, type CertificationAction } from './certification-state';
import type { CertificationRepository, CertificationTx } from './certification.repository';
import { CertificationService } from './certification.service';

const S = ParticipantState;

/** In memory: rows change only when the work succeeds, like a transaction. */
class FakeCertificationRepository {
  participants = new Map<string, ParticipantEntity>();
  transitions: CertificationEventEntity[] = [];
  keys: ApiKeyEntity[] = [];
  events: PendingEvent[] = [];

  async transaction<T>(work: (tx: CertificationTx) => Promise<T>): Promise<T> {
    const staged = {
      transitions: [] as CertificationEventEntity[],
      keys: [] as ApiKeyEntity[],
      events: [] as PendingEvent[],
    };
    const copies = new Map([...this.participants].map(([id, p]) => [id, { ...p }]));
    const tx: CertificationTx = {
      lockParticipant: (id) => Promise.resolve(copies.get(id)),
      saveParticipant: (p) => Promise.resolve(void copies.set(p.id, p)),
      recordTransition: (e) => Promise.resolve(void staged.transitions.push(e)),
      insertApiKey: (k) => Promise.resolve(void staged.keys.push(k)),
      revokeActiveKeys: (participantId) =>
        Promise.resolve(this.keys.filter((k) => k.participantId === participantId)),
      emit: (events) => Promise.resolve(void staged.events.push(...events)),
    };
    const result = await work(tx);
    this.participants = copies;
    this.transitions.push(...staged.transitions);
    this.keys.push(...staged.keys);
    this.events.push(...staged.events);
    return result;
  }
}

const operator: Caller = {
  subject: 'op-1',
  roles: ['operator'],
  tenant: 'op-1',
  tokenId: 't',
  expiresAt: new Date(),
};
const ID = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';

function subject(state: ParticipantState) {
  const repository = new FakeCertificationRepository();
  repository.participants.set(ID, {
    id: ID,
    kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
    userCategory: 0,
    name: 'Example',
    state,
    organization: null,
    individual: null,
    requestId: 'r',
    createdBy: 'anonymous',
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  return {
    repository,
    service: new CertificationService(repository as unknown as CertificationRepository),
  };
}

describe('certification state machine', () => {
  const legal: [ParticipantState, CertificationAction, ParticipantState][] = [
    [S.PARTICIPANT_STATE_SUBMITTED, 'start_review', S.PARTICIPANT_STATE_UNDER_REVIEW],
    [S.PARTICIPANT_STATE_UNDER_REVIEW, 'certify', S.PARTICIPANT_STATE_CERTIFIED],
    [S.PARTICIPANT_STATE_UNDER_REVIEW, 'reject', S.PARTICIPANT_STATE_REJECTED],
    [S.PARTICIPANT_STATE_CERTIFIED, 'suspend', S.PARTICIPANT_STATE_SUSPENDED],
    [S.PARTICIPANT_STATE_SUSPENDED, 'reinstate', S.PARTICIPANT_STATE_CERTIFIED],
    [S.PARTICIPANT_STATE_REJECTED, 'resubmit', S.PARTICIPANT_STATE_SUBMITTED],
    [S.PARTICIPANT_STATE_SUBMITTED, 'revoke', S.PARTICIPANT_STATE_REVOKED],
    [S.PARTICIPANT_STATE_UNDER_REVIEW, 'revoke', S.PARTICIPANT_STATE_REVOKED],
    [S.PARTICIPANT_STATE_CERTIFIED, 'revoke', S.PARTICIPANT_STATE_REVOKED],
    [S.PARTICIPANT_STATE_SUSPENDED, 'revoke', S.PARTICIPANT_STATE_REVOKED],
    [S.PARTICIPANT_STATE_REJECTED, 'revoke', S.PARTICIPANT_STATE_REVOKED],
  ];

  it.each(legal)('allows %s --%s--> %s', (from, action, to) => {
    expect(nextState(from, action)).toBe(to);
  });

  it('refuses every other transition, naming the current state', () => {
    const actions: CertificationAction[] = [
      'start_review',
      'certify',
      'reject',
      'suspend',
      'reinstate',
      'revoke',
      'resubmit',
    ];
    const states = [1, 2, 3, 4, 5, 6] as ParticipantState[];
    for (const from of states) {
      for (const action of actions) {
        if (legal.some(([f, a]) => f === from && a === action)) continue;
        let error: unknown;
        try {
          nextState(from, action);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(FailedPreconditionError);
        expect((error as FailedPreconditionError).metadata.current_state).toBe(
          ParticipantState[from],
        );
      }
    }
  });
});

describe(CertificationService.name, () => {
  it('certifies a participant under review, recording the transition and issuing one key', async () => {
    const { repository, service } = subject(S.PARTICIPANT_STATE_UNDER_REVIEW);
    const result = await service.transition(ID, 'certify', ' documents verified ', operator);
    expect(result.participant.state).toBe(S.PARTICIPANT_STATE_CERTIFIED);
    expect(result.issuedKey?.key).toMatch(/^cin_/);
    expect(repository.keys).toHaveLength(1);
    expect(repository.transitions[0]).toMatchObject({
      fromState: 2,
      toState: 3,
      actor: 'op-1',
      reason: 'documents verified',
    });
    expect(repository.events.map((e) => e.type)).toEqual([
      'cinode.participant.participant.certified',
      'cinode.participant.key.issued',
    ]);
    expect(repository.events[0].data).toEqual({
      participantId: ID,
      kind: 'COMPUTE_PROVIDER',
      state: 'CERTIFIED',
      previousState: 'UNDER_REVIEW',
      reason: 'documents verified',
      actor: 'op-1',
    });
  });

  it('rejects certifying a rejected participant and changes nothing', async () => {
    const { repository, service } = subject(S.PARTICIPANT_STATE_REJECTED);
    await expect(service.transition(ID, 'certify', 'again', operator)).rejects.toBeInstanceOf(
      FailedPreconditionError,
    );
    expect(repository.participants.get(ID)?.state).toBe(S.PARTICIPANT_STATE_REJECTED);
    expect(repository.transitions).toHaveLength(0);
    expect(repository.events).toHaveLength(0);
  });

  it('requires a reason', async () => {
    const { service } = subject(S.PARTICIPANT_STATE_CERTIFIED);
    await expect(service.transition(ID, 'suspend', '  ', operator)).rejects.toThrow(
      'reason: is required',
    );
  });
});

describe(rolesOfKind.name, () => {
  it('maps each participant kind to its token role', () => {
    const K = ParticipantKind;
    expect(rolesOfKind(K.PARTICIPANT_KIND_COMPUTE_PROVIDER)).toEqual(['provider']);
    expect(rolesOfKind(K.PARTICIPANT_KIND_RESELLER)).toEqual(['reseller']);
    expect(rolesOfKind(K.PARTICIPANT_KIND_APPLICATION_PROVIDER)).toEqual(['application_provider']);
    expect(rolesOfKind(K.PARTICIPANT_KIND_LINE_PROVIDER)).toEqual(['line_provider']);
    expect(rolesOfKind(K.PARTICIPANT_KIND_USER)).toEqual(['user']);
    expect(rolesOfKind(K.PARTICIPANT_KIND_OPERATOR)).toEqual(['operator']);
  });
});
