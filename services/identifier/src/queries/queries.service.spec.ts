import { PageTokens } from '@cinode/common';
import {
  IdentifierState,
  ObjectType,
  type ListIdentifiersRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import {
  NODE_PREFIX,
  caller,
  fakes,
  seedIdentifier,
  usableSerial,
} from '../../test/identifier-fakes';
import { expectDomainError } from '@cinode/testing';
import { formatIdentifier } from '../format/identifier-format';
import { QueriesService } from './queries.service';

/** An object type number from a newer client, unknown to this build. */
const NEWER_OBJECT_TYPE: number = 99;

const providerA = caller('prov-a', ['provider']);
const providerB = caller('prov-b', ['provider']);
const operator = caller('op-1', ['operator'], 'cinode');
const regulator = caller('reg-1', ['regulator'], 'regulator');
const serviceCaller = caller('service-center', ['service'], 'cinode');

function listRequest(overrides: Partial<ListIdentifiersRequest> = {}): ListIdentifiersRequest {
  return {
    ownerParticipantId: '',
    objectType: ObjectType.OBJECT_TYPE_UNSPECIFIED,
    state: IdentifierState.IDENTIFIER_STATE_UNSPECIFIED,
    pageSize: 0,
    pageToken: '',
    ...overrides,
  };
}

function subject() {
  const under = fakes();
  return {
    ...under,
    service: new QueriesService(under.identifiers.asRepository, PageTokens.ephemeral()),
  };
}

describe(QueriesService.name, () => {
  describe('resolve', () => {
    it('resolves a filed identifier for anyone authenticated, in any letter case, with its history', async () => {
      const { service, identifiers } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(10));
      identifiers.history.push({
        id: '1',
        identifier: filed.identifier,
        fromState: 'pending_filing',
        toState: 'filed',
        actor: 'system:filing',
        reason: 'filed',
        changedAt: filed.issuedAt,
      });
      const stranger = caller('user-9', ['user']);
      const record = await service.resolve(stranger, ` ${filed.identifier.toLowerCase()} `);
      expect(record.entity.identifier).toBe(filed.identifier);
      expect(record.transitions.map((t) => t.toState)).toEqual(['filed']);
    });

    it.each(['pending_filing', 'suspended', 'retired'] as const)(
      'hides a %s identifier from other participants but shows it to the owner, operators, regulators and services',
      async (state) => {
        const { service, identifiers } = subject();
        const hidden = seedIdentifier(identifiers, usableSerial(20), { state });

        const error = await expectDomainError(service.resolve(providerB, hidden.identifier));
        expect(error.kind).toBe('PERMISSION_DENIED');
        expect(error.reason).toBe('IDENTIFIER_NOT_VISIBLE');

        for (const who of [providerA, operator, regulator, serviceCaller]) {
          const record = await service.resolve(who, hidden.identifier.toLowerCase());
          expect(record.entity.state).toBe(state);
        }
      },
    );

    it('matches the owner by tenant, not by subject', async () => {
      const { service, identifiers } = subject();
      const pending = seedIdentifier(identifiers, usableSerial(30), { state: 'pending_filing' });
      const colleague = caller('prov-a-user-2', ['provider'], 'prov-a');
      expect((await service.resolve(colleague, pending.identifier)).entity.state).toBe(
        'pending_filing',
      );
    });

    it('answers NOT_FOUND for a well-formed identifier this node never issued', async () => {
      const { service } = subject();
      const error = await expectDomainError(
        service.resolve(providerA, formatIdentifier(NODE_PREFIX, 'RP', usableSerial(40))),
      );
      expect(error.kind).toBe('NOT_FOUND');
      expect(error.reason).toBe('IDENTIFIER_NOT_FOUND');
    });

    it('rejects a mistyped identifier by its check character, and a malformed one by grammar', async () => {
      const { service, identifiers } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(50));
      const typo = filed.identifier.slice(0, -1) + (filed.identifier.endsWith('0') ? '1' : '0');
      const mistyped = await expectDomainError(service.resolve(providerA, typo));
      expect(mistyped.kind).toBe('INVALID_ARGUMENT');
      expect(mistyped.reason).toBe('IDENTIFIER_CHECK_CHARACTER');
      const malformed = await expectDomainError(service.resolve(providerA, 'not an identifier'));
      expect(malformed.reason).toBe('IDENTIFIER_GRAMMAR');
      expect(malformed.fieldViolations.map((v) => v.field)).toEqual(['identifier']);
    });
  });

  describe('list', () => {
    function threeOwnedByA() {
      const under = subject();
      for (const from of [60, 70, 80]) seedIdentifier(under.identifiers, usableSerial(from));
      seedIdentifier(under.identifiers, usableSerial(90), { ownerParticipantId: 'prov-b' });
      return under;
    }

    it('lists only a participant’s own identifiers, and refuses naming another owner', async () => {
      const { service, identifiers } = threeOwnedByA();
      const own = await service.list(providerA, listRequest());
      expect(own.identifiers).toHaveLength(3);
      expect(identifiers.listCalls[0].filter.ownerParticipantId).toBe('prov-a');

      const error = await expectDomainError(
        service.list(providerA, listRequest({ ownerParticipantId: 'prov-b' })),
      );
      expect(error.kind).toBe('PERMISSION_DENIED');
      expect(error.reason).toBe('NOT_OWNER');
    });

    it.each([
      ['operators', operator],
      ['regulators', regulator],
      ['services', serviceCaller],
    ])('lets %s list every owner’s identifiers', async (_who, privileged) => {
      const { service } = threeOwnedByA();
      expect((await service.list(privileged, listRequest())).identifiers).toHaveLength(4);
      expect(
        (await service.list(privileged, listRequest({ ownerParticipantId: 'prov-b' }))).identifiers,
      ).toHaveLength(1);
    });

    it('pages in serial order with a token bound to the query', async () => {
      const { service } = threeOwnedByA();
      const first = await service.list(providerA, listRequest({ pageSize: 2 }));
      expect(first.identifiers).toHaveLength(2);
      expect(first.nextPageToken).not.toBe('');
      const second = await service.list(
        providerA,
        listRequest({ pageSize: 2, pageToken: first.nextPageToken }),
      );
      expect(second.identifiers).toHaveLength(1);
      expect(second.nextPageToken).toBe('');
      expect(second.identifiers[0].serial).toBeGreaterThan(first.identifiers[1].serial);

      // Another participant (hence another owner filter) may not replay A's token.
      const replay = await expectDomainError(
        service.list(providerB, listRequest({ pageSize: 2, pageToken: first.nextPageToken })),
      );
      expect(replay.fieldViolations.map((v) => v.field)).toEqual(['page_token']);
    });

    it('filters by object type and state, and rejects an unknown object type', async () => {
      const { service, identifiers } = threeOwnedByA();
      await service.list(
        operator,
        listRequest({
          objectType: ObjectType.OBJECT_TYPE_LINE,
          state: IdentifierState.IDENTIFIER_STATE_SUSPENDED,
        }),
      );
      expect(identifiers.listCalls[0].filter).toEqual({
        ownerParticipantId: undefined,
        objectType: 'LN',
        state: 'suspended',
      });
      const error = await expectDomainError(
        service.list(operator, listRequest({ objectType: NEWER_OBJECT_TYPE })),
      );
      expect(error.fieldViolations.map((v) => v.field)).toEqual(['object_type']);
    });
  });
});
