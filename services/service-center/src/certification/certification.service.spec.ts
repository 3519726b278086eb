import type { Caller } from '@cinode/auth';
import { FailedPreconditionError, PageTokens } from '@cinode/common';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { asReal, fakeStore } from '../../test/fakes';
import { ApiKeyIssuer } from '../api-keys/api-key-issuer';
import type { ApiKeysRepository } from '../api-keys/api-keys.repository';
import { rolesOfKind } from '../participants/participant-roles';
import { ParticipantTransitions } from '../participants/participant-transitions';
import type { ParticipantsRepository } from '../participants/participants.repository';
import { CertificationService } from './certification.service';

const S = ParticipantState;

const operator: Caller = {
  subject: 'op-1',
  roles: ['operator'],
  tenant: 'op-1',
  tokenId: 't',
  expiresAt: new Date(),
};
const ID = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';
const CREDIT_CODE = '914403001922038216';

function subject(state: ParticipantState) {
  const store = fakeStore();
  store.participants.participants.set(ID, {
    id: ID,
    kind: ParticipantKind.PARTICIPANT_KIND_COMPUTE_PROVIDER,
    userCategory: 0,
    name: 'Example Compute',
    state,
    version: 4,
    organization: {
      creditCode: CREDIT_CODE,
      address: 'Road 1',
      contactPerson: { name: 'A', title: 'B', mobile: '13800138000', email: 'a@x.cn' },
      responsiblePerson: { name: 'C', title: 'D', mobile: '13900139000', email: 'c@x.cn' },
    },
    individual: null,
    createdBy: 'anonymous',
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  const participants = asReal<ParticipantsRepository>(store.participants);
  const service = new CertificationService(
    store.uow.asUnitOfWork,
    participants,
    new ParticipantTransitions(participants),
    new ApiKeyIssuer(asReal<ApiKeysRepository>(store.keys)),
    asReal<ApiKeysRepository>(store.keys),
    PageTokens.ephemeral(),
  );
  return { store, service };
}

describe(CertificationService.name, () => {
  it('certifies a participant under review, recording the transition and issuing one key', async () => {
    const { store, service } = subject(S.PARTICIPANT_STATE_UNDER_REVIEW);
    const result = await service.transition(ID, 'certify', ' documents verified ', operator);
    expect(result.participant.state).toBe(S.PARTICIPANT_STATE_CERTIFIED);
    expect(result.issuedKey?.key).toMatch(/^cin_/);
    expect(store.keys.keys.size).toBe(1);
    expect(store.participants.transitions[0]).toMatchObject({
      fromState: 2,
      toState: 3,
      actor: 'op-1',
      reason: 'documents verified',
    });
    expect(store.events.map((e) => e.type)).toEqual([
      'cinode.participant.participant.certified',
      'cinode.participant.key.issued',
    ]);
    expect(store.events[0].data).toEqual({
      participantId: ID,
      version: 5,
      kind: 'COMPUTE_PROVIDER',
      state: 'CERTIFIED',
      previousState: 'UNDER_REVIEW',
      legalName: 'Example Compute',
      creditCode: CREDIT_CODE,
      reason: 'documents verified',
      actor: 'op-1',
    });
    expect(store.participants.participants.get(ID)?.version).toBe(5);
  });

  it('revokes every active key with the participant, each with its own event', async () => {
    const { store, service } = subject(S.PARTICIPANT_STATE_UNDER_REVIEW);
    await service.transition(ID, 'certify', 'ok', operator);
    await service.transition(ID, 'revoke', 'fraud', operator);
    const keys = [...store.keys.keys.values()];
    expect(keys.map((k) => [k.state, k.version])).toEqual([[ApiKeyState.API_KEY_STATE_REVOKED, 2]]);
    expect(store.events.map((e) => e.type).slice(-2)).toEqual([
      'cinode.participant.participant.revoked',
      'cinode.participant.key.revoked',
    ]);
    expect(store.events.at(-1)?.data).toMatchObject({
      version: 2,
      reason: 'participant revoked: fraud',
    });
  });

  it('certifies once for a retried request id, answering the retry with the first key without its secret', async () => {
    const { store, service } = subject(S.PARTICIPANT_STATE_UNDER_REVIEW);
    const first = await service.certify(ID, 'documents verified', 'cert-1', operator);
    expect(first.issuedKey?.key).toMatch(/^cin_/);
    const retry = await service.certify(ID, 'documents verified', 'cert-1', operator);
    expect(retry.participant.state).toBe(S.PARTICIPANT_STATE_CERTIFIED);
    expect(retry.issuedKey?.entity.id).toBe(first.issuedKey?.entity.id);
    expect(retry.issuedKey?.key).toBe('');
    expect(store.keys.keys.size).toBe(1);
    expect(store.participants.transitions).toHaveLength(1);
    expect(store.events.map((e) => e.type)).toEqual([
      'cinode.participant.participant.certified',
      'cinode.participant.key.issued',
    ]);
    // The same id for another reason is another request; without an id a repeat is refused.
    await expect(service.certify(ID, 'something else', 'cert-1', operator)).rejects.toMatchObject({
      reason: 'REQUEST_ID_REUSED',
    });
    await expect(service.certify(ID, 'documents verified', '', operator)).rejects.toBeInstanceOf(
      FailedPreconditionError,
    );
  });

  it('rejects certifying a rejected participant and changes nothing', async () => {
    const { store, service } = subject(S.PARTICIPANT_STATE_REJECTED);
    await expect(service.transition(ID, 'certify', 'again', operator)).rejects.toBeInstanceOf(
      FailedPreconditionError,
    );
    expect(store.participants.participants.get(ID)?.state).toBe(S.PARTICIPANT_STATE_REJECTED);
    expect(store.participants.participants.get(ID)?.version).toBe(4);
    expect(store.participants.transitions).toHaveLength(0);
    expect(store.events).toHaveLength(0);
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
