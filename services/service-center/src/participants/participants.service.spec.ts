import type { Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  PermissionDeniedError,
  ValidationError,
  PageTokens,
} from '@cinode/common';
import {
  ParticipantKind,
  ParticipantState,
  UserCategory,
  type CreateParticipantRequest,
  type OrganizationDetails,
  type Participant,
  type ResubmitParticipantRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { IdempotencyErrorReason } from '@cinode/database';
import { asReal, fakeStore } from '../../test/fakes';
import { assertMayChange, assertMayRead } from '../access';
import { ErrorReason } from '../errors';
import { ParticipantTransitions } from './participant-transitions';
import type { ParticipantsRepository } from './participants.repository';
import { ParticipantsService } from './participants.service';

const K = ParticipantKind;
const S = ParticipantState;

function callerOf(tenant: string, ...roles: Caller['roles']): Caller {
  return { subject: tenant, roles, tenant, tokenId: 't', expiresAt: new Date() };
}

const OTHER_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const operator = callerOf('op-1', 'operator');
const regulator = callerOf('reg-1', 'regulator');
const serviceCaller = callerOf('billing', 'service');

const CREDIT_CODE = '914403001922038216';
const OTHER_CREDIT_CODE = '91440300708461136T';

function organization(overrides: Partial<OrganizationDetails> = {}): OrganizationDetails {
  return {
    creditCode: CREDIT_CODE,
    address: 'No. 1 Example Road, Shenzhen',
    contactPerson: { name: 'Li Lei', title: 'Manager', mobile: '13800138000', email: 'li@x.cn' },
    responsiblePerson: {
      name: 'Han Meimei',
      title: 'Director',
      mobile: '13900139000',
      email: 'han@x.cn',
    },
    ...overrides,
  };
}

function createRequest(
  overrides: Partial<CreateParticipantRequest> = {},
): CreateParticipantRequest {
  return {
    requestId: 'reg-1',
    kind: K.PARTICIPANT_KIND_RESELLER,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: 'Example Reseller',
    organization: organization(),
    individual: undefined,
    ...overrides,
  };
}

function violationsOf(error: unknown): string[] {
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fieldViolations.map((v) => v.field);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function subject() {
  const store = fakeStore();
  const participants = asReal<ParticipantsRepository>(store.participants);
  const service = new ParticipantsService(
    store.uow.asUnitOfWork,
    participants,
    new ParticipantTransitions(participants),
    PageTokens.ephemeral(),
  );
  /** What the tests look at: the participants table, the transitions and committed events. */
  const repository = {
    get participants() {
      return store.participants.participants;
    },
    get transitions() {
      return store.participants.transitions;
    },
    get events() {
      return store.events;
    },
  };
  return { repository, service };
}

/** A registered participant in `state`, with the caller that owns it. */
async function registered(state: ParticipantState = S.PARTICIPANT_STATE_SUBMITTED) {
  const { repository, service } = subject();
  const created = await service.create(createRequest(), undefined);
  const row = repository.participants.get(created.id);
  if (!row) throw new Error('created participant not stored');
  row.state = state;
  const own = callerOf(created.id, 'reseller');
  return { repository, service, id: created.id, own };
}

function patchOf(id: string, overrides: Partial<Participant> = {}): Participant {
  return {
    id,
    kind: K.PARTICIPANT_KIND_UNSPECIFIED,
    userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
    name: '',
    state: S.PARTICIPANT_STATE_UNSPECIFIED,
    organization: undefined,
    individual: undefined,
    createTime: undefined,
    updateTime: undefined,
    ...overrides,
  };
}

describe(ParticipantsService.name, () => {
  describe('create', () => {
    it('registers a submitted participant, normalised, with its transition and event', async () => {
      const { repository, service } = subject();
      const created = await service.create(
        createRequest({
          name: '  Example Reseller ',
          organization: organization({ creditCode: ' 91440300708461136t ' }),
        }),
        undefined,
      );
      expect(created).toMatchObject({
        kind: K.PARTICIPANT_KIND_RESELLER,
        name: 'Example Reseller',
        state: S.PARTICIPANT_STATE_SUBMITTED,
        createdBy: 'anonymous',
        individual: null,
      });
      expect(created.organization?.creditCode).toBe(OTHER_CREDIT_CODE);
      expect(repository.participants.get(created.id)?.name).toBe('Example Reseller');
      expect(repository.transitions).toEqual([
        expect.objectContaining({
          participantId: created.id,
          fromState: S.PARTICIPANT_STATE_UNSPECIFIED,
          toState: S.PARTICIPANT_STATE_SUBMITTED,
          reason: 'registered',
        }),
      ]);
      expect(repository.events).toEqual([
        {
          type: 'cinode.participant.participant.registered',
          data: {
            participantId: created.id,
            version: 1,
            kind: 'RESELLER',
            state: 'SUBMITTED',
            previousState: null,
            legalName: 'Example Reseller',
            creditCode: OTHER_CREDIT_CODE,
            reason: 'registered',
            actor: 'anonymous',
          },
        },
      ]);
    });

    it('lists every invalid field of an organisation at once and stores nothing', async () => {
      const { repository, service } = subject();
      const error = await failure(
        service.create(
          createRequest({
            requestId: 'bad id with spaces',
            name: ' ',
            organization: {
              creditCode: '914403001922038217',
              address: '',
              contactPerson: { name: '', title: '', mobile: '12345', email: 'nope' },
              responsiblePerson: undefined,
            },
          }),
          undefined,
        ),
      );
      expect(violationsOf(error).sort()).toEqual(
        [
          'request_id',
          'name',
          'organization.credit_code',
          'organization.address',
          'organization.contact_person.name',
          'organization.contact_person.title',
          'organization.contact_person.mobile',
          'organization.contact_person.email',
          'organization.responsible_person',
        ].sort(),
      );
      expect(repository.participants.size).toBe(0);
      expect(repository.events).toHaveLength(0);
    });

    it('lists every invalid field of an individual user at once', async () => {
      const { service } = subject();
      const error = await failure(
        service.create(
          createRequest({
            kind: K.PARTICIPANT_KIND_USER,
            userCategory: UserCategory.USER_CATEGORY_INDIVIDUAL,
            name: 'Zhang San',
            organization: organization(),
            individual: { identityNumber: '110105194912310021', mobile: '0800', email: 'a@b' },
          }),
          undefined,
        ),
      );
      expect(violationsOf(error).sort()).toEqual(
        [
          'organization',
          'individual.identity_number',
          'individual.mobile',
          'individual.email',
        ].sort(),
      );
    });

    it('requires a user category for users and refuses one for other kinds', async () => {
      const { service } = subject();
      const forUser = await failure(
        service.create(createRequest({ kind: K.PARTICIPANT_KIND_USER }), undefined),
      );
      expect(violationsOf(forUser)).toEqual(['user_category']);
      const forReseller = await failure(
        service.create(
          createRequest({ userCategory: UserCategory.USER_CATEGORY_ENTERPRISE }),
          undefined,
        ),
      );
      expect(violationsOf(forReseller)).toEqual(['user_category']);
    });

    it('refuses an unset kind and the operator kind', async () => {
      const { service } = subject();
      expect(
        violationsOf(
          await failure(
            service.create(createRequest({ kind: K.PARTICIPANT_KIND_UNSPECIFIED }), undefined),
          ),
        ),
      ).toEqual(['kind']);
      const operatorKind = await failure(
        service.create(createRequest({ kind: K.PARTICIPANT_KIND_OPERATOR }), undefined),
      );
      expect(violationsOf(operatorKind)).toContain('kind');
      expect((operatorKind as ValidationError).message).toMatch(/created at install time/);
    });

    it('accepts an individual user with identity details and no organisation', async () => {
      const { service } = subject();
      const created = await service.create(
        createRequest({
          kind: K.PARTICIPANT_KIND_USER,
          userCategory: UserCategory.USER_CATEGORY_INDIVIDUAL,
          name: 'Zhang San',
          organization: undefined,
          individual: {
            identityNumber: '11010519491231002x',
            mobile: '13800138000',
            email: 'z@x.cn',
          },
        }),
        callerOf('someone', 'user'),
      );
      expect(created.organization).toBeNull();
      expect(created.individual?.identityNumber).toBe('11010519491231002X');
      expect(created.createdBy).toBe('someone');
    });

    it('returns the same participant when a request id is retried with the same content', async () => {
      const { repository, service } = subject();
      const first = await service.create(createRequest(), undefined);
      const again = await service.create(createRequest({ name: ' Example Reseller' }), undefined);
      expect(again.id).toBe(first.id);
      expect(repository.participants.size).toBe(1);
      expect(repository.transitions).toHaveLength(1);
      expect(repository.events).toHaveLength(1);
    });

    it('refuses a request id reused for a different kind or name', async () => {
      const { repository, service } = subject();
      await service.create(createRequest(), operator);
      for (const changed of [
        createRequest({ name: 'Another Reseller' }),
        createRequest({ kind: K.PARTICIPANT_KIND_COMPUTE_PROVIDER }),
      ]) {
        const error = await failure(service.create(changed, operator));
        expect(error).toBeInstanceOf(AlreadyExistsError);
        expect((error as AlreadyExistsError).reason).toBe(IdempotencyErrorReason.REQUEST_ID_REUSED);
        expect((error as AlreadyExistsError).metadata).toEqual({ operation: 'CreateParticipant' });
      }
      expect(repository.participants.size).toBe(1);
      expect(repository.events).toHaveLength(1);
    });

    it('refuses a retry under the same request_id whose details differ', async () => {
      const { repository, service } = subject();
      await service.create(createRequest(), operator);
      const error = await failure(
        service.create(
          createRequest({ organization: organization({ creditCode: OTHER_CREDIT_CODE }) }),
          operator,
        ),
      );
      expect(error).toBeInstanceOf(AlreadyExistsError);
      expect((error as AlreadyExistsError).reason).toBe(IdempotencyErrorReason.REQUEST_ID_REUSED);
      expect(repository.participants.size).toBe(1);
    });

    it('takes the same request id with other content from callers without a token as another registration', async () => {
      const { repository, service } = subject();
      const first = await service.create(createRequest(), undefined);
      const again = await service.create(createRequest(), undefined);
      const other = await service.create(createRequest({ name: 'Another Reseller' }), undefined);
      expect(again.id).toBe(first.id);
      expect(other.id).not.toBe(first.id);
      expect(repository.participants.size).toBe(2);
    });
  });

  describe('get', () => {
    it('lets a participant, operators, regulators and services read the record', async () => {
      const { service, id, own } = await registered();
      for (const caller of [own, operator, regulator, serviceCaller]) {
        await expect(service.get(id, caller)).resolves.toMatchObject({ id });
      }
    });

    it("refuses another participant's record the same way whether or not it exists", async () => {
      const { service, id } = await registered();
      const stranger = callerOf(OTHER_ID, 'reseller');
      const existing = await failure(service.get(id, stranger));
      const missing = await failure(service.get('11111111-2222-4333-8444-555555555555', stranger));
      for (const error of [existing, missing]) {
        expect(error).toBeInstanceOf(PermissionDeniedError);
        expect((error as PermissionDeniedError).reason).toBe(ErrorReason.NOT_OWN_RECORD);
      }
      expect((existing as Error).message).toBe((missing as Error).message);
    });
  });

  describe('update', () => {
    it('changes only the masked fields a participant may change itself', async () => {
      const { repository, service, id, own } = await registered();
      const updated = await service.update(
        patchOf(id, {
          name: 'Ignored Because Unmasked',
          organization: organization({
            address: ' New Address 2 ',
            creditCode: OTHER_CREDIT_CODE,
            contactPerson: {
              name: 'Wang Wu',
              title: 'Lead',
              mobile: '13700137000',
              email: 'wang@x.cn',
            },
          }),
        }),
        ['organization.address'],
        own,
      );
      expect(updated.organization?.address).toBe('New Address 2');
      expect(updated.organization?.creditCode).toBe(CREDIT_CODE);
      expect(updated.organization?.contactPerson.name).toBe('Li Lei');
      expect(updated.name).toBe('Example Reseller');
      expect(repository.participants.get(id)?.organization?.address).toBe('New Address 2');
    });

    it('refuses an empty mask and unknown paths, listing each', async () => {
      const { service, id } = await registered();
      expect(violationsOf(await failure(service.update(patchOf(id), [], operator)))).toEqual([
        'update_mask',
      ]);
      expect(violationsOf(await failure(service.update(patchOf(id), undefined, operator)))).toEqual(
        ['update_mask'],
      );
      const error = await failure(
        service.update(patchOf(id), ['state', 'organization.address', 'kind'], operator),
      );
      expect((error as ValidationError).fieldViolations).toEqual([
        { field: 'update_mask', description: 'unknown or unchangeable field "state"' },
        { field: 'update_mask', description: 'unknown or unchangeable field "kind"' },
      ]);
    });

    it.each(['name', 'organization.credit_code', 'user_category', 'individual.identity_number'])(
      'refuses a participant changing %s itself and changes nothing',
      async (path) => {
        const { repository, service, id, own } = await registered();
        const error = await failure(
          service.update(
            patchOf(id, { name: 'New Name', organization: organization() }),
            ['organization.address', path],
            own,
          ),
        );
        expect(error).toBeInstanceOf(PermissionDeniedError);
        expect((error as PermissionDeniedError).reason).toBe(ErrorReason.FIELD_NOT_CHANGEABLE);
        expect((error as Error).message).toContain(path);
        expect(repository.participants.get(id)?.name).toBe('Example Reseller');
      },
    );

    it('lets an operator change the fields a participant may not', async () => {
      const { service, id } = await registered(S.PARTICIPANT_STATE_CERTIFIED);
      const updated = await service.update(
        patchOf(id, {
          name: ' Renamed Reseller ',
          organization: organization({ creditCode: OTHER_CREDIT_CODE }),
        }),
        ['name', 'organization.credit_code'],
        operator,
      );
      expect(updated.name).toBe('Renamed Reseller');
      expect(updated.organization?.creditCode).toBe(OTHER_CREDIT_CODE);
      expect(updated.state).toBe(S.PARTICIPANT_STATE_CERTIFIED);
    });

    it('validates the merged details and changes nothing when they are invalid', async () => {
      const { repository, service, id } = await registered();
      const error = await failure(
        service.update(
          patchOf(id, { name: '', organization: organization({ creditCode: 'XYZ' }) }),
          ['name', 'organization.credit_code'],
          operator,
        ),
      );
      expect(violationsOf(error).sort()).toEqual(['name', 'organization.credit_code']);
      expect(repository.participants.get(id)?.organization?.creditCode).toBe(CREDIT_CODE);
    });

    it('refuses changing a revoked participant', async () => {
      const { service, id } = await registered(S.PARTICIPANT_STATE_REVOKED);
      const error = await failure(
        service.update(
          patchOf(id, { organization: organization() }),
          ['organization.address'],
          operator,
        ),
      );
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect((error as FailedPreconditionError).reason).toBe(ErrorReason.PARTICIPANT_REVOKED);
    });

    it("refuses changing another participant's record, even for a regulator", async () => {
      const { service, id } = await registered();
      for (const caller of [callerOf(OTHER_ID, 'reseller'), regulator, serviceCaller]) {
        const error = await failure(
          service.update(
            patchOf(id, { organization: organization() }),
            ['organization.address'],
            caller,
          ),
        );
        expect(error).toBeInstanceOf(PermissionDeniedError);
        expect((error as PermissionDeniedError).reason).toBe(ErrorReason.NOT_OWN_RECORD);
      }
    });

    it('requires the participant', async () => {
      const { service } = subject();
      expect(violationsOf(await failure(service.update(undefined, ['name'], operator)))).toEqual([
        'participant',
      ]);
    });
  });

  describe('resubmit', () => {
    function resubmission(id: string): ResubmitParticipantRequest {
      return {
        participantId: id,
        name: 'Corrected Reseller',
        userCategory: UserCategory.USER_CATEGORY_UNSPECIFIED,
        organization: organization({ creditCode: OTHER_CREDIT_CODE }),
        individual: undefined,
        reason: ' fixed the credit code ',
      };
    }

    it('moves a rejected participant back to submitted with the new details', async () => {
      const { repository, service, id, own } = await registered(S.PARTICIPANT_STATE_REJECTED);
      const result = await service.resubmit(resubmission(id), own);
      expect(result).toMatchObject({
        state: S.PARTICIPANT_STATE_SUBMITTED,
        name: 'Corrected Reseller',
      });
      expect(repository.participants.get(id)?.organization?.creditCode).toBe(OTHER_CREDIT_CODE);
      expect(repository.transitions.at(-1)).toMatchObject({
        fromState: S.PARTICIPANT_STATE_REJECTED,
        toState: S.PARTICIPANT_STATE_SUBMITTED,
        reason: 'fixed the credit code',
        actor: id,
      });
      expect(repository.events.at(-1)).toEqual({
        type: 'cinode.participant.participant.registered',
        data: {
          participantId: id,
          version: 2,
          kind: 'RESELLER',
          state: 'SUBMITTED',
          previousState: 'REJECTED',
          legalName: 'Corrected Reseller',
          creditCode: OTHER_CREDIT_CODE,
          reason: 'fixed the credit code',
          actor: id,
        },
      });
    });

    it.each([
      S.PARTICIPANT_STATE_SUBMITTED,
      S.PARTICIPANT_STATE_UNDER_REVIEW,
      S.PARTICIPANT_STATE_CERTIFIED,
      S.PARTICIPANT_STATE_SUSPENDED,
      S.PARTICIPANT_STATE_REVOKED,
    ])('refuses resubmitting from state %s and changes nothing', async (state) => {
      const { repository, service, id, own } = await registered(state);
      const eventsBefore = repository.events.length;
      const error = await failure(service.resubmit(resubmission(id), own));
      expect(error).toBeInstanceOf(FailedPreconditionError);
      expect(repository.participants.get(id)).toMatchObject({ state, name: 'Example Reseller' });
      expect(repository.events).toHaveLength(eventsBefore);
    });

    it('validates the resubmitted details and the reason together', async () => {
      const { service, id, own } = await registered(S.PARTICIPANT_STATE_REJECTED);
      const error = await failure(
        service.resubmit({ ...resubmission(id), name: '', reason: ' ' }, own),
      );
      expect(violationsOf(error).sort()).toEqual(['name', 'reason']);
    });

    it("refuses resubmitting another participant's record", async () => {
      const { service, id } = await registered(S.PARTICIPANT_STATE_REJECTED);
      await expect(
        service.resubmit(resubmission(id), callerOf(OTHER_ID, 'reseller')),
      ).rejects.toBeInstanceOf(PermissionDeniedError);
    });
  });
});

describe('participant access', () => {
  const ID = '6f1c2b9e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';

  it('lets a participant read and change only its own records', () => {
    const own = callerOf(ID, 'provider');
    expect(() => assertMayRead(own, ID)).not.toThrow();
    expect(() => assertMayChange(own, ID)).not.toThrow();
    expect(() => assertMayRead(own, OTHER_ID)).toThrow(PermissionDeniedError);
    expect(() => assertMayChange(own, OTHER_ID)).toThrow(PermissionDeniedError);
  });

  it('lets operators read and change every record', () => {
    expect(() => assertMayRead(operator, ID)).not.toThrow();
    expect(() => assertMayChange(operator, ID)).not.toThrow();
  });

  it('lets regulators and services read but not change other records', () => {
    for (const caller of [regulator, serviceCaller]) {
      expect(() => assertMayRead(caller, ID)).not.toThrow();
      expect(() => assertMayChange(caller, ID)).toThrow(PermissionDeniedError);
    }
  });
});
