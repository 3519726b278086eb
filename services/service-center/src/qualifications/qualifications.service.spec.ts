import type { Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  PageTokens,
} from '@cinode/common';
import { toTimestamp } from '@cinode/grpc';
import {
  ParticipantKind,
  ParticipantState,
  QualificationState,
  UserCategory,
  type GrantResaleQualificationRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { IdempotencyErrorReason } from '@cinode/database';
import { asReal, fakeStore } from '../../test/fakes';
import { ErrorReason } from '../errors';
import type { ParticipantEntity } from '../participants/participant.entity';
import type { ParticipantsRepository } from '../participants/participants.repository';
import type { QualificationEntity } from './qualification.entity';
import type { QualificationsRepository } from './qualifications.repository';
import { QualificationsService, qualificationStateAt } from './qualifications.service';

const K = ParticipantKind;
const S = ParticipantState;
const Q = QualificationState;

const RESELLER = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';
const PROVIDER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const MISSING = '11111111-2222-4333-8444-555555555555';

const operator: Caller = {
  subject: 'op-1',
  roles: ['operator'],
  tenant: 'op-1',
  tokenId: 't',
  expiresAt: new Date(),
};

const NOW = new Date('2026-06-01T00:00:00Z');
const day = (n: number) => new Date(NOW.getTime() + n * 86_400_000);

function participant(
  id: string,
  kind: ParticipantKind,
  state: ParticipantState,
): ParticipantEntity {
  return {
    id,
    kind,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: 'Example',
    state,
    version: 1,
    organization: null,
    individual: null,
    createdBy: 'anonymous',
    createdAt: NOW,
    updatedAt: NOW,
  };
}

function subject(resellerState: ParticipantState = S.PARTICIPANT_STATE_CERTIFIED) {
  const store = fakeStore();
  const service = new QualificationsService(
    store.uow.asUnitOfWork,
    asReal<QualificationsRepository>(store.qualifications),
    asReal<ParticipantsRepository>(store.participants),
    PageTokens.ephemeral(),
  );
  /** What the tests look at: the tables and the committed events. */
  const repository = {
    get participants() {
      return store.participants.participants;
    },
    get qualifications() {
      return store.qualifications.qualifications;
    },
    get events() {
      return store.events as { type: string; data: { reason: string } }[];
    },
  };
  repository.participants.set(
    RESELLER,
    participant(RESELLER, K.PARTICIPANT_KIND_RESELLER, resellerState),
  );
  repository.participants.set(
    PROVIDER,
    participant(PROVIDER, K.PARTICIPANT_KIND_COMPUTE_PROVIDER, S.PARTICIPANT_STATE_CERTIFIED),
  );
  return { repository, service };
}

function grantRequest(
  overrides: Partial<GrantResaleQualificationRequest> = {},
): GrantResaleQualificationRequest {
  return {
    requestId: 'grant-1',
    participantId: RESELLER,
    validFrom: toTimestamp(day(0)),
    validUntil: toTimestamp(day(365)),
    reason: ' contract signed ',
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe(QualificationsService.name, () => {
  describe('grant', () => {
    it('grants a certified reseller a qualification and emits qualification.granted', async () => {
      const { repository, service } = subject();
      const granted = await service.grant(grantRequest(), operator, NOW);
      expect(granted).toMatchObject({
        participantId: RESELLER,
        validFrom: day(0),
        validUntil: day(365),
        grantedBy: 'op-1',
        grantReason: 'contract signed',
        revokedAt: null,
      });
      expect(repository.qualifications.get(granted.id)).toBeDefined();
      expect(repository.events).toEqual([
        {
          type: 'cinode.participant.qualification.granted',
          data: {
            qualificationId: granted.id,
            participantId: RESELLER,
            version: 1,
            validFrom: day(0).toISOString(),
            validUntil: day(365).toISOString(),
            reason: 'contract signed',
            actor: 'op-1',
          },
        },
      ]);
    });

    it('refuses a participant that is not a reseller', async () => {
      const { repository, service } = subject();
      const error = await failure(
        service.grant(grantRequest({ participantId: PROVIDER }), operator, NOW),
      );
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect((error as FailedPreconditionError).reason).toBe(ErrorReason.NOT_A_RESELLER);
      expect(repository.qualifications.size).toBe(0);
    });

    it.each([
      S.PARTICIPANT_STATE_SUBMITTED,
      S.PARTICIPANT_STATE_UNDER_REVIEW,
      S.PARTICIPANT_STATE_REJECTED,
      S.PARTICIPANT_STATE_SUSPENDED,
      S.PARTICIPANT_STATE_REVOKED,
    ])('refuses a reseller in state %s, naming the state', async (state) => {
      const { repository, service } = subject(state);
      const error = await failure(service.grant(grantRequest(), operator, NOW));
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect((error as FailedPreconditionError).reason).toBe(ErrorReason.PARTICIPANT_NOT_CERTIFIED);
      expect((error as FailedPreconditionError).metadata.current_state).toBe(
        ParticipantState[state],
      );
      expect(repository.qualifications.size).toBe(0);
      expect(repository.events).toHaveLength(0);
    });

    it('answers NOT_FOUND for an unknown participant', async () => {
      const { service } = subject();
      await expect(
        service.grant(grantRequest({ participantId: MISSING }), operator, NOW),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    it.each([
      ['equal to', day(10), day(10)],
      ['before', day(10), day(9)],
    ])('refuses valid_until %s valid_from', async (_, from, until) => {
      const { service } = subject();
      const error = await failure(
        service.grant(
          grantRequest({ validFrom: toTimestamp(from), validUntil: toTimestamp(until) }),
          operator,
          NOW,
        ),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldViolations).toEqual([
        { field: 'valid_until', description: 'must be after valid_from' },
      ]);
    });

    it('refuses a validity that has already ended', async () => {
      const { service } = subject();
      const error = await failure(
        service.grant(
          grantRequest({ validFrom: toTimestamp(day(-30)), validUntil: toTimestamp(NOW) }),
          operator,
          NOW,
        ),
      );
      expect((error as ValidationError).fieldViolations).toEqual([
        { field: 'valid_until', description: 'must be in the future' },
      ]);
    });

    it('lists every missing or invalid field at once', async () => {
      const { service } = subject();
      const error = await failure(
        service.grant(
          {
            requestId: '',
            participantId: 'x',
            validFrom: undefined,
            validUntil: undefined,
            reason: '',
          },
          operator,
          NOW,
        ),
      );
      expect((error as ValidationError).fieldViolations.map((v) => v.field)).toEqual([
        'request_id',
        'participant_id',
        'valid_from',
        'valid_until',
        'reason',
      ]);
    });

    it('returns the first grant when the request id is retried, and refuses it for another participant', async () => {
      const { repository, service } = subject();
      const first = await service.grant(grantRequest(), operator, NOW);
      const again = await service.grant(grantRequest(), operator, NOW);
      expect(again.id).toBe(first.id);
      expect(repository.qualifications.size).toBe(1);
      expect(repository.events).toHaveLength(1);

      const other = participant(
        MISSING,
        K.PARTICIPANT_KIND_RESELLER,
        S.PARTICIPANT_STATE_CERTIFIED,
      );
      repository.participants.set(MISSING, other);
      const error = await failure(
        service.grant(grantRequest({ participantId: MISSING }), operator, NOW),
      );
      expect(error).toBeInstanceOf(AlreadyExistsError);
      expect((error as AlreadyExistsError).reason).toBe(IdempotencyErrorReason.REQUEST_ID_REUSED);
    });
    it('answers a retried grant with the first one even after the reseller was suspended', async () => {
      const { repository, service } = subject();
      const first = await service.grant(grantRequest(), operator, NOW);
      const row = repository.participants.get(RESELLER);
      if (!row) throw new Error('reseller missing');
      row.state = S.PARTICIPANT_STATE_SUSPENDED;
      const again = await service.grant(grantRequest(), operator, NOW);
      expect(again.id).toBe(first.id);
      expect(repository.events).toHaveLength(1);
    });
  });

  describe('check', () => {
    it('allows a certified reseller only while its qualification is valid, at the time given', async () => {
      const { service } = subject();
      await service.grant(
        grantRequest({ validFrom: toTimestamp(day(10)), validUntil: toTimestamp(day(20)) }),
        operator,
        NOW,
      );
      const at = async (when: Date) => (await service.check(RESELLER, when)).denialReason;
      expect(await at(day(9))).toBe('NO_VALID_QUALIFICATION');
      expect(await at(new Date(day(10).getTime() - 1))).toBe('NO_VALID_QUALIFICATION');
      expect(await at(day(10))).toBe('');
      expect(await at(new Date(day(20).getTime() - 1))).toBe('');
      expect(await at(day(20))).toBe('NO_VALID_QUALIFICATION');
      await expect(service.check(RESELLER, day(15))).resolves.toEqual({
        allowed: true,
        denialReason: '',
        validUntil: day(20),
      });
    });

    it('reports the latest end when validities overlap', async () => {
      const { service } = subject();
      await service.grant(grantRequest({ requestId: 'a' }), operator, NOW);
      await service.grant(
        grantRequest({ requestId: 'b', validUntil: toTimestamp(day(400)) }),
        operator,
        NOW,
      );
      expect((await service.check(RESELLER, day(1))).validUntil).toEqual(day(400));
    });

    it('denies a reseller that is no longer certified, even with a valid qualification', async () => {
      const { repository, service } = subject();
      await service.grant(grantRequest(), operator, NOW);
      const row = repository.participants.get(RESELLER);
      if (!row) throw new Error('reseller missing');
      row.state = S.PARTICIPANT_STATE_SUSPENDED;
      await expect(service.check(RESELLER, day(1))).resolves.toEqual({
        allowed: false,
        denialReason: 'PARTICIPANT_NOT_CERTIFIED',
      });
    });

    it('denies a participant that is not a reseller', async () => {
      const { service } = subject();
      await expect(service.check(PROVIDER, day(1))).resolves.toEqual({
        allowed: false,
        denialReason: 'NOT_A_RESELLER',
      });
    });

    it('answers NOT_FOUND for an unknown participant', async () => {
      const { service } = subject();
      await expect(service.check(MISSING, NOW)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('guards resale actions with PERMISSION_DENIED naming the denial', async () => {
      const { service } = subject();
      const error = await failure(service.assertMayActForCustomers(RESELLER, NOW));
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).reason).toBe('NO_VALID_QUALIFICATION');
      await service.grant(grantRequest(), operator, NOW);
      await expect(service.assertMayActForCustomers(RESELLER, day(1))).resolves.toBeUndefined();
    });
  });

  describe('revoke', () => {
    it('revokes at once, so check denies from then on, and emits qualification.revoked', async () => {
      const { repository, service } = subject();
      const granted = await service.grant(grantRequest(), operator, NOW);
      const revoked = await service.revoke(granted.id, ' breach ', operator);
      expect(revoked).toMatchObject({ revokedBy: 'op-1', revokeReason: 'breach' });
      expect(revoked.revokedAt).toBeInstanceOf(Date);
      expect(repository.qualifications.get(granted.id)?.revokedAt).toEqual(revoked.revokedAt);
      await expect(service.check(RESELLER, day(1))).resolves.toMatchObject({
        allowed: false,
        denialReason: 'NO_VALID_QUALIFICATION',
      });
      expect(repository.events.map((e) => e.type)).toEqual([
        'cinode.participant.qualification.granted',
        'cinode.participant.qualification.revoked',
      ]);
      expect(repository.events[1].data.reason).toBe('breach');
    });

    it('answers a second revocation with the qualification as it is and emits nothing', async () => {
      const { repository, service } = subject();
      const granted = await service.grant(grantRequest(), operator, NOW);
      const first = await service.revoke(granted.id, 'breach', operator);
      const again = await service.revoke(granted.id, 'other', operator);
      expect(again).toMatchObject({ revokeReason: 'breach', revokedAt: first.revokedAt });
      expect(repository.events).toHaveLength(2);
    });

    it('answers NOT_FOUND for an unknown qualification and requires a reason', async () => {
      const { service } = subject();
      const missing = await failure(service.revoke(MISSING, 'breach', operator));
      expect((missing as NotFoundError).reason).toBe(ErrorReason.QUALIFICATION_NOT_FOUND);
      const invalid = await failure(service.revoke(MISSING, ' ', operator));
      expect((invalid as ValidationError).fieldViolations.map((v) => v.field)).toEqual(['reason']);
    });
  });

  describe('sweepExpired', () => {
    it('records each expiry once and emits qualification.expired once', async () => {
      const { repository, service } = subject();
      const granted = await service.grant(
        grantRequest({ validUntil: toTimestamp(day(30)) }),
        operator,
        NOW,
      );
      expect(await service.sweepExpired(day(29))).toBe(0);
      expect(await service.sweepExpired(day(30))).toBe(1);
      expect(await service.sweepExpired(day(31))).toBe(0);
      expect(repository.qualifications.get(granted.id)?.expiryRecordedAt).toEqual(day(30));
      expect(repository.events.filter((e) => e.type.endsWith('.expired'))).toEqual([
        {
          type: 'cinode.participant.qualification.expired',
          data: expect.objectContaining({
            qualificationId: granted.id,
            version: 2,
            reason: 'validity ended',
            actor: 'system',
          }),
        },
      ]);
    });
  });
});

describe(qualificationStateAt.name, () => {
  const q = (revokedAt: Date | null): QualificationEntity => ({
    id: 'q',
    participantId: RESELLER,
    version: 1,
    validFrom: day(10),
    validUntil: day(20),
    grantedBy: 'op-1',
    grantReason: 'x',
    createdAt: NOW,
    revokedAt,
    revokedBy: null,
    revokeReason: null,
    expiryRecordedAt: null,
  });

  it('derives the state from the validity period, from inclusive and until exclusive', () => {
    expect(qualificationStateAt(q(null), new Date(day(10).getTime() - 1))).toBe(
      Q.QUALIFICATION_STATE_NOT_YET_VALID,
    );
    expect(qualificationStateAt(q(null), day(10))).toBe(Q.QUALIFICATION_STATE_VALID);
    expect(qualificationStateAt(q(null), new Date(day(20).getTime() - 1))).toBe(
      Q.QUALIFICATION_STATE_VALID,
    );
    expect(qualificationStateAt(q(null), day(20))).toBe(Q.QUALIFICATION_STATE_EXPIRED);
  });

  it('reports revoked whatever the period', () => {
    for (const at of [day(0), day(15), day(30)]) {
      expect(qualificationStateAt(q(day(12)), at)).toBe(Q.QUALIFICATION_STATE_REVOKED);
    }
  });
});
