import { DomainError } from '@cinode/common';
import {
  IdentifierState,
  ObjectType,
  type IssueIdentifierRequest,
  type ListIdentifiersRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import {
  caller,
  identifiersService,
  seedIdentifier,
  unusableSerial,
  usableSerial,
  NODE_PREFIX,
} from '../../test/identifier-fakes';
import { formatIdentifier, parseIdentifier } from '../format/identifier-format';
import { IDENTIFIER_EVENTS } from './identifier-events';
import { IdentifiersService } from './identifiers.service';

/** An object type number from a newer client, unknown to this build. */
const NEWER_OBJECT_TYPE: number = 99;

const providerA = caller('prov-a', ['provider']);
const providerB = caller('prov-b', ['provider']);
const operator = caller('op-1', ['operator'], 'cinode');
const regulator = caller('reg-1', ['regulator'], 'regulator');
const serviceCaller = caller('service-center', ['service'], 'cinode');

function issueRequest(overrides: Partial<IssueIdentifierRequest> = {}): IssueIdentifierRequest {
  return {
    requestId: 'req-1',
    objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
    objectName: '  GPU pool east-1 ',
    ownerParticipantId: '',
    ownerName: ' Example Cloud Ltd. ',
    ownerCreditCode: '91310000MA1FL0000X',
    attributes: { region: 'east' },
    ...overrides,
  };
}

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

/** The DomainError the promise rejects with; fails the test when it resolves or throws anything else. */
async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const outcome: unknown = await promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  if (!(outcome instanceof DomainError))
    throw new Error(`expected a DomainError, got ${String(outcome)}`);
  return outcome;
}

/** A certified provider A, with the service and its fakes. */
function subject() {
  const under = identifiersService();
  under.participants.set('prov-a', 'certified');
  under.participants.set('prov-b', 'certified');
  return under;
}

describe(IdentifiersService.name, () => {
  describe('issue', () => {
    it('issues a pending identifier for a certified participant, recording reserved and pending_filing and the issued event in one transaction', async () => {
      const { service, identifiers, outbox } = subject();
      const { record, created } = await service.issue(providerA, issueRequest());

      expect(created).toBe(true);
      const parsed = parseIdentifier(record.entity.identifier);
      expect(parsed.ok && parsed.value.canonical).toBe(record.entity.identifier);
      expect(record.entity.identifier.startsWith(`${NODE_PREFIX}.RP.`)).toBe(true);
      expect(record.entity).toMatchObject({
        state: 'pending_filing',
        nodeCode: 'R0001',
        objectType: 'RP',
        objectName: 'GPU pool east-1',
        ownerName: 'Example Cloud Ltd.',
        ownerParticipantId: 'prov-a',
        issuedBy: 'prov-a',
        idempotencyKey: 'prov-a:req-1',
        filingNumber: null,
        filingError: null,
      });
      expect(identifiers.rows.get(record.entity.identifier)?.state).toBe('pending_filing');
      expect(record.transitions.map((t) => [t.fromState, t.toState, t.actor])).toEqual([
        [null, 'reserved', 'prov-a'],
        ['reserved', 'pending_filing', 'prov-a'],
      ]);
      expect(outbox.events).toEqual([
        {
          manager: identifiers.managers[0],
          type: IDENTIFIER_EVENTS.issued,
          data: {
            identifier: record.entity.identifier,
            nodeCode: 'R0001',
            objectType: 'RP',
            ownerParticipantId: 'prov-a',
          },
        },
      ]);
    });

    it('accepts the service center’s enum spelling of the certified state', async () => {
      const { service, participants } = subject();
      participants.set('prov-a', 'PARTICIPANT_STATE_CERTIFIED');
      const { created } = await service.issue(providerA, issueRequest());
      expect(created).toBe(true);
    });

    it.each([
      ['under_review', 'UNDER_REVIEW'],
      ['rejected', 'REJECTED'],
      ['suspended', 'SUSPENDED'],
      [undefined, 'UNKNOWN'],
    ])(
      'refuses a participant whose state is %s, naming the state, and stores nothing',
      async (state, named) => {
        const { service, participants, identifiers, outbox } = subject();
        if (state) participants.set('prov-a', state);
        else participants.rows.delete('prov-a');

        const error = await failure(service.issue(providerA, issueRequest()));

        expect(error.kind).toBe('FAILED_PRECONDITION');
        expect(error.reason).toBe('OWNER_NOT_CERTIFIED');
        expect(error.metadata.current_state).toBe(named);
        expect(identifiers.rows.size).toBe(0);
        expect(identifiers.history).toHaveLength(0);
        expect(outbox.events).toHaveLength(0);
      },
    );

    it('refuses a certified participant issuing for another owner', async () => {
      const { service, identifiers } = subject();
      const error = await failure(
        service.issue(providerA, issueRequest({ ownerParticipantId: 'prov-b' })),
      );
      expect(error.kind).toBe('PERMISSION_DENIED');
      expect(error.reason).toBe('NOT_OWNER');
      expect(identifiers.rows.size).toBe(0);
    });

    it('lets a participant name itself as the owner', async () => {
      const { service } = subject();
      const { record } = await service.issue(
        providerA,
        issueRequest({ ownerParticipantId: 'prov-a' }),
      );
      expect(record.entity.ownerParticipantId).toBe('prov-a');
    });

    it.each([
      ['an operator', operator],
      ['a service', serviceCaller],
    ])(
      'lets %s issue for any owner, even one not (yet) certified or projected',
      async (_who, privileged) => {
        const { service, participants } = subject();
        participants.set('prov-new', 'under_review');
        const forUncertified = await service.issue(
          privileged,
          issueRequest({ ownerParticipantId: 'prov-new' }),
        );
        expect(forUncertified.record.entity).toMatchObject({
          ownerParticipantId: 'prov-new',
          issuedBy: privileged.subject,
          idempotencyKey: `${privileged.subject}:req-1`,
        });
        const forUnknown = await service.issue(
          privileged,
          issueRequest({ requestId: 'req-2', ownerParticipantId: 'prov-unknown' }),
        );
        expect(forUnknown.record.entity.ownerParticipantId).toBe('prov-unknown');
      },
    );

    it('requires an operator to name the owner', async () => {
      const { service } = subject();
      const error = await failure(service.issue(operator, issueRequest()));
      expect(error.kind).toBe('INVALID_ARGUMENT');
      expect(error.fieldViolations.map((v) => v.field)).toEqual(['owner_participant_id']);
    });

    it.each([
      ['suspended', 'SUSPENDED'],
      ['revoked', 'REVOKED'],
    ])('refuses even an operator a %s owner', async (state, named) => {
      const { service, participants, identifiers } = subject();
      participants.set('prov-a', state);
      const error = await failure(
        service.issue(operator, issueRequest({ ownerParticipantId: 'prov-a' })),
      );
      expect(error.kind).toBe('FAILED_PRECONDITION');
      expect(error.reason).toBe('OWNER_NOT_ACTIVE');
      expect(error.metadata.current_state).toBe(named);
      expect(identifiers.rows.size).toBe(0);
    });

    it('returns the first identifier when the same caller repeats a request_id, without a second record or event', async () => {
      const { service, identifiers, outbox } = subject();
      const first = await service.issue(providerA, issueRequest());
      const again = await service.issue(providerA, issueRequest());
      expect(again.created).toBe(false);
      expect(again.record.entity.identifier).toBe(first.record.entity.identifier);
      expect(again.record.transitions).toHaveLength(2);
      expect(identifiers.rows.size).toBe(1);
      expect(outbox.events).toHaveLength(1);
    });

    it('refuses the same request_id with other content as ALREADY_EXISTS naming the first identifier', async () => {
      const { service, identifiers, outbox } = subject();
      const first = await service.issue(providerA, issueRequest());
      const error = await failure(
        service.issue(
          providerA,
          issueRequest({ objectName: 'something else', objectType: ObjectType.OBJECT_TYPE_LINE }),
        ),
      );
      expect(error.kind).toBe('ALREADY_EXISTS');
      expect(error.reason).toBe('REQUEST_ID_REUSED');
      expect(error.metadata).toEqual({ identifier: first.record.entity.identifier });
      expect(identifiers.rows.size).toBe(1);
      expect(outbox.events).toHaveLength(1);
    });

    it('answers a repeated request_id even after the owner lost its certification', async () => {
      const { service, participants } = subject();
      const first = await service.issue(providerA, issueRequest());
      participants.set('prov-a', 'suspended');
      const again = await service.issue(providerA, issueRequest());
      expect(again).toMatchObject({
        created: false,
        record: { entity: { identifier: first.record.entity.identifier } },
      });
    });

    it('scopes request_id to the caller, and issues anew when there is none', async () => {
      const { service, identifiers } = subject();
      const a = await service.issue(providerA, issueRequest());
      const b = await service.issue(providerB, issueRequest());
      const noId1 = await service.issue(providerA, issueRequest({ requestId: '' }));
      const noId2 = await service.issue(providerA, issueRequest({ requestId: '' }));
      expect(b.created && noId1.created && noId2.created).toBe(true);
      expect(new Set([a, b, noId1, noId2].map((r) => r.record.entity.identifier)).size).toBe(4);
      expect(noId1.record.entity.idempotencyKey).toBeNull();
      expect(identifiers.rows.size).toBe(4);
    });

    it('answers with the winner when a concurrent call with the same request_id commits first', async () => {
      const { service, identifiers, outbox } = subject();
      const winner = seedIdentifier(identifiers, usableSerial(500), {
        objectName: 'GPU pool east-1',
        state: 'pending_filing',
        filingNumber: null,
        filedAt: null,
        idempotencyKey: 'prov-a:req-1',
      });
      identifiers.rows.clear();
      identifiers.concurrentWinner = winner;

      const { record, created } = await service.issue(providerA, issueRequest());

      expect(created).toBe(false);
      expect(record.entity.identifier).toBe(winner.identifier);
      expect(identifiers.rows.size).toBe(1);
      expect(identifiers.history).toHaveLength(0);
      expect(outbox.events).toHaveLength(0);
    });

    it('skips serials whose check character would be the unusable 37th symbol', async () => {
      const { service, identifiers } = subject();
      const skipped = unusableSerial(1);
      const next = usableSerial(skipped + 1);
      identifiers.serials = [skipped, next];
      const { record } = await service.issue(providerA, issueRequest());
      expect(record.entity.serial).toBe(next);
      expect(record.entity.identifier).toBe(formatIdentifier(NODE_PREFIX, 'RP', next));
    });

    it('answers RESOURCE_EXHAUSTED once every serial is used, storing nothing', async () => {
      const { service, identifiers, outbox } = subject();
      identifiers.serials = [100_000_000];
      const error = await failure(service.issue(providerA, issueRequest()));
      expect(error.kind).toBe('RESOURCE_EXHAUSTED');
      expect(error.reason).toBe('SERIALS_EXHAUSTED');
      expect(identifiers.rows.size).toBe(0);
      expect(outbox.events).toHaveLength(0);
    });

    it('answers UNAVAILABLE until the node is registered', async () => {
      const { service, node, identifiers } = subject();
      node.identity = undefined;
      const error = await failure(service.issue(providerA, issueRequest()));
      expect(error.kind).toBe('UNAVAILABLE');
      expect(error.reason).toBe('NODE_NOT_REGISTERED');
      expect(identifiers.rows.size).toBe(0);
    });

    it('reports every invalid field at once', async () => {
      const { service, identifiers } = subject();
      const attributes: Record<string, string> = { big: 'x'.repeat(1025) };
      for (let i = 0; i < 32; i++) attributes[`k${i}`] = 'v';
      const error = await failure(
        service.issue(
          providerA,
          issueRequest({
            requestId: 'has space',
            objectType: ObjectType.OBJECT_TYPE_UNSPECIFIED,
            objectName: '   ',
            ownerCreditCode: 'not-a-code',
            attributes,
          }),
        ),
      );
      expect(error.kind).toBe('INVALID_ARGUMENT');
      expect(error.fieldViolations.map((v) => v.field).sort()).toEqual(
        [
          'attributes',
          'attributes[big]',
          'object_name',
          'object_type',
          'owner_credit_code',
          'request_id',
        ].sort(),
      );
      expect(error.fieldViolations.find((v) => v.field === 'object_type')?.description).toBe(
        'is required',
      );
      expect(identifiers.rows.size).toBe(0);
    });

    it('rejects an object type this build does not know', async () => {
      const { service } = subject();
      const error = await failure(
        service.issue(providerA, issueRequest({ objectType: NEWER_OBJECT_TYPE })),
      );
      expect(error.fieldViolations).toEqual([
        { field: 'object_type', description: 'unknown value 99' },
      ]);
    });
  });

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
        changedAt: filed.filedAt!,
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

        const error = await failure(service.resolve(providerB, hidden.identifier));
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
      const error = await failure(
        service.resolve(providerA, formatIdentifier(NODE_PREFIX, 'RP', usableSerial(40))),
      );
      expect(error.kind).toBe('NOT_FOUND');
      expect(error.reason).toBe('IDENTIFIER_NOT_FOUND');
    });

    it('rejects a mistyped identifier by its check character, and a malformed one by grammar', async () => {
      const { service, identifiers } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(50));
      const typo = filed.identifier.slice(0, -1) + (filed.identifier.endsWith('0') ? '1' : '0');
      const mistyped = await failure(service.resolve(providerA, typo));
      expect(mistyped.kind).toBe('INVALID_ARGUMENT');
      expect(mistyped.reason).toBe('IDENTIFIER_CHECK_CHARACTER');
      const malformed = await failure(service.resolve(providerA, 'not an identifier'));
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

      const error = await failure(
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
      const replay = await failure(
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
      const error = await failure(
        service.list(operator, listRequest({ objectType: NEWER_OBJECT_TYPE })),
      );
      expect(error.fieldViolations.map((v) => v.field)).toEqual(['object_type']);
    });
  });

  describe('lifecycle', () => {
    it('suspends a filed identifier for an operator, recording actor, trimmed reason and cause', async () => {
      const { service, identifiers, outbox } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(100));

      const record = await service.suspend(
        operator,
        filed.identifier.toLowerCase(),
        ' misleading ',
      );

      expect(record.entity).toMatchObject({ state: 'suspended', suspensionCause: 'operator' });
      expect(record.entity.stateChangedAt.getTime()).toBeGreaterThanOrEqual(
        filed.stateChangedAt.getTime(),
      );
      expect(record.transitions).toEqual([
        expect.objectContaining({
          fromState: 'filed',
          toState: 'suspended',
          actor: 'op-1',
          reason: 'misleading',
        }),
      ]);
      expect(outbox.events).toEqual([
        {
          manager: identifiers.managers[0],
          type: IDENTIFIER_EVENTS.suspended,
          data: {
            identifier: filed.identifier,
            ownerParticipantId: 'prov-a',
            state: 'suspended',
            suspensionCause: 'operator',
            reason: 'misleading',
            actor: 'op-1',
          },
        },
      ]);
    });

    it('reinstates a suspended identifier to filed, clearing the cause', async () => {
      const { service, identifiers, outbox } = subject();
      const suspended = seedIdentifier(identifiers, usableSerial(110), {
        state: 'suspended',
        suspensionCause: 'operator',
      });
      const record = await service.reinstate(operator, suspended.identifier, 'name corrected');
      expect(record.entity).toMatchObject({ state: 'filed', suspensionCause: null });
      expect(record.transitions.at(-1)).toMatchObject({
        fromState: 'suspended',
        toState: 'filed',
        actor: 'op-1',
        reason: 'name corrected',
      });
      expect(outbox.events.map((e) => e.type)).toEqual([IDENTIFIER_EVENTS.reinstated]);
    });

    it.each([
      ['suspended', 'SUSPENDED'],
      ['revoked', 'REVOKED'],
    ])(
      'keeps an identifier suspended while its owner is %s',
      async (ownerState, namedOwnerState) => {
        const { service, identifiers, participants, outbox } = subject();
        participants.set('prov-a', ownerState);
        const suspended = seedIdentifier(identifiers, usableSerial(120), {
          state: 'suspended',
          suspensionCause: 'owner_suspended',
        });
        const error = await failure(service.reinstate(operator, suspended.identifier, 'try'));
        expect(error.kind).toBe('FAILED_PRECONDITION');
        expect(error.reason).toBe('OWNER_NOT_ACTIVE');
        expect(error.metadata).toEqual({
          current_state: 'SUSPENDED',
          owner_state: namedOwnerState,
        });
        expect(identifiers.rows.get(suspended.identifier)?.state).toBe('suspended');
        expect(identifiers.history).toHaveLength(0);
        expect(outbox.events).toHaveLength(0);
      },
    );

    it('lets the owner retire its filed identifier and an operator retire a suspended one', async () => {
      const { service, identifiers } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(130));
      const suspended = seedIdentifier(identifiers, usableSerial(140), {
        state: 'suspended',
        suspensionCause: 'operator',
      });
      const byOwner = await service.retire(providerA, filed.identifier, 'decommissioned');
      expect(byOwner.entity.state).toBe('retired');
      expect(byOwner.transitions.at(-1)).toMatchObject({ actor: 'prov-a', fromState: 'filed' });
      const byOperator = await service.retire(operator, suspended.identifier, 'abandoned');
      expect(byOperator.entity).toMatchObject({ state: 'retired', suspensionCause: null });
      expect(byOperator.transitions.at(-1)).toMatchObject({
        actor: 'op-1',
        fromState: 'suspended',
        toState: 'retired',
      });
    });

    it('refuses another participant retiring an identifier', async () => {
      const { service, identifiers } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(150));
      const error = await failure(service.retire(providerB, filed.identifier, 'not mine'));
      expect(error.kind).toBe('PERMISSION_DENIED');
      expect(error.reason).toBe('NOT_OWNER');
      expect(identifiers.rows.get(filed.identifier)?.state).toBe('filed');
    });

    it('retires a pending identifier only once the national node rejected its filing', async () => {
      const { service, identifiers } = subject();
      const pending = seedIdentifier(identifiers, usableSerial(160), {
        state: 'pending_filing',
        filingNumber: null,
        filedAt: null,
      });
      const error = await failure(service.retire(providerA, pending.identifier, 'give up'));
      expect(error.kind).toBe('FAILED_PRECONDITION');
      expect(error.reason).toBe('INVALID_TRANSITION');
      expect(error.metadata).toEqual({
        current_state: 'PENDING_FILING',
        requested_state: 'RETIRED',
      });

      await service.recordFilingRejected(
        identifiers.managers[0],
        pending.identifier,
        '3 INVALID_ARGUMENT: bad',
      );
      const retired = await service.retire(providerA, pending.identifier, 'give up');
      expect(retired.entity.state).toBe('retired');
      expect(retired.transitions.at(-1)).toMatchObject({
        fromState: 'pending_filing',
        toState: 'retired',
      });
    });

    it.each([
      ['suspend', 'retired', 'RETIRED', 'SUSPENDED'],
      ['reinstate', 'retired', 'RETIRED', 'FILED'],
      ['retire', 'retired', 'RETIRED', 'RETIRED'],
      ['suspend', 'suspended', 'SUSPENDED', 'SUSPENDED'],
      ['reinstate', 'filed', 'FILED', 'FILED'],
      ['suspend', 'pending_filing', 'PENDING_FILING', 'SUSPENDED'],
      ['reinstate', 'pending_filing', 'PENDING_FILING', 'FILED'],
    ] as const)(
      'refuses to %s a %s identifier with FAILED_PRECONDITION naming the current state',
      async (action, state, current, requested) => {
        const { service, identifiers, outbox } = subject();
        const seeded = seedIdentifier(identifiers, usableSerial(170), {
          state,
          suspensionCause: state === 'suspended' ? 'operator' : null,
        });
        const error = await failure(service[action](operator, seeded.identifier, 'because'));
        expect(error.kind).toBe('FAILED_PRECONDITION');
        expect(error.reason).toBe('INVALID_TRANSITION');
        expect(error.metadata).toEqual({ current_state: current, requested_state: requested });
        expect(error.message).toContain(current);
        expect(identifiers.rows.get(seeded.identifier)).toEqual(seeded);
        expect(identifiers.history).toHaveLength(0);
        expect(outbox.events).toHaveLength(0);
      },
    );

    it.each(['suspend', 'reinstate', 'retire'] as const)(
      'requires a reason of at most 500 characters to %s',
      async (action) => {
        const { service, identifiers } = subject();
        const filed = seedIdentifier(identifiers, usableSerial(180));
        for (const reason of ['  ', 'x'.repeat(501)]) {
          const error = await failure(service[action](operator, filed.identifier, reason));
          expect(error.kind).toBe('INVALID_ARGUMENT');
          expect(error.fieldViolations.map((v) => v.field)).toEqual(['reason']);
        }
        expect(identifiers.rows.get(filed.identifier)?.state).toBe('filed');
      },
    );

    it('answers NOT_FOUND for a transition of an identifier never issued', async () => {
      const { service } = subject();
      const error = await failure(
        service.suspend(operator, formatIdentifier(NODE_PREFIX, 'RP', usableSerial(190)), 'x'),
      );
      expect(error.kind).toBe('NOT_FOUND');
    });
  });

  describe('filing outcomes and owner cascades', () => {
    it('records a filing: number, time, FILED, a transition and the filed event', async () => {
      const { service, identifiers, outbox } = subject();
      const pending = seedIdentifier(identifiers, usableSerial(200), {
        state: 'pending_filing',
        filingNumber: null,
        filedAt: null,
      });
      const filedAt = new Date('2026-02-03T04:05:06.000Z');
      const manager = await identifiers.inTransaction(async (m) => m);

      await service.recordFiled(manager, pending, 'NF20260203000001', filedAt, 'system:filing');

      expect(identifiers.rows.get(pending.identifier)).toMatchObject({
        state: 'filed',
        filingNumber: 'NF20260203000001',
        filedAt,
        filingError: null,
      });
      expect(identifiers.history).toEqual([
        expect.objectContaining({
          fromState: 'pending_filing',
          toState: 'filed',
          actor: 'system:filing',
          reason: 'filed with the national node as NF20260203000001',
        }),
      ]);
      expect(outbox.events).toEqual([
        {
          manager,
          type: IDENTIFIER_EVENTS.filed,
          data: { identifier: pending.identifier, filingNumber: 'NF20260203000001' },
        },
      ]);
    });

    it.each([
      ['suspended', 'owner_suspended'],
      ['revoked', 'owner_revoked'],
    ])(
      'suspends a newly filed identifier at once when its owner was %s during the filing',
      async (ownerState, cause) => {
        const { service, identifiers, participants, outbox } = subject();
        participants.set('prov-a', ownerState);
        const pending = seedIdentifier(identifiers, usableSerial(210), {
          state: 'pending_filing',
          filingNumber: null,
          filedAt: null,
        });
        const manager = await identifiers.inTransaction(async (m) => m);
        await service.recordFiled(manager, pending, 'NF1', new Date(), 'system:filing');
        expect(identifiers.rows.get(pending.identifier)).toMatchObject({
          state: 'suspended',
          suspensionCause: cause,
          filingNumber: 'NF1',
        });
        expect(identifiers.history.map((t) => [t.fromState, t.toState])).toEqual([
          ['pending_filing', 'filed'],
          ['filed', 'suspended'],
        ]);
        expect(outbox.events.map((e) => e.type)).toEqual([
          IDENTIFIER_EVENTS.filed,
          IDENTIFIER_EVENTS.suspended,
        ]);
      },
    );

    it('marks a rejected filing without changing the state, truncating the error', async () => {
      const { service, identifiers } = subject();
      const pending = seedIdentifier(identifiers, usableSerial(220), {
        state: 'pending_filing',
        filingNumber: null,
        filedAt: null,
      });
      const manager = await identifiers.inTransaction(async (m) => m);
      await service.recordFilingRejected(manager, pending.identifier, 'e'.repeat(3000));
      const row = identifiers.rows.get(pending.identifier);
      expect(row?.state).toBe('pending_filing');
      expect(row?.filingError).toHaveLength(2000);
      expect(identifiers.history).toHaveLength(0);
    });

    it('suspends an owner’s filed identifiers and leaves others alone; revocation makes owner suspensions permanent', async () => {
      const { service, identifiers, outbox } = subject();
      const filed1 = seedIdentifier(identifiers, usableSerial(230));
      const filed2 = seedIdentifier(identifiers, usableSerial(240));
      const byOperator = seedIdentifier(identifiers, usableSerial(250), {
        state: 'suspended',
        suspensionCause: 'operator',
      });
      const pending = seedIdentifier(identifiers, usableSerial(260), {
        state: 'pending_filing',
        filingNumber: null,
      });
      const othersFiled = seedIdentifier(identifiers, usableSerial(270), {
        ownerParticipantId: 'prov-b',
      });
      const manager = await identifiers.inTransaction(async (m) => m);

      const count = await service.suspendForOwner(
        manager,
        'prov-a',
        'owner_suspended',
        'system:participant-events',
        'owner suspended',
      );

      expect(count).toBe(2);
      for (const id of [filed1, filed2])
        expect(identifiers.rows.get(id.identifier)).toMatchObject({
          state: 'suspended',
          suspensionCause: 'owner_suspended',
        });
      expect(identifiers.rows.get(byOperator.identifier)?.suspensionCause).toBe('operator');
      expect(identifiers.rows.get(pending.identifier)?.state).toBe('pending_filing');
      expect(identifiers.rows.get(othersFiled.identifier)?.state).toBe('filed');
      expect(identifiers.history.map((t) => [t.identifier, t.actor, t.reason])).toEqual([
        [filed1.identifier, 'system:participant-events', 'owner suspended'],
        [filed2.identifier, 'system:participant-events', 'owner suspended'],
      ]);
      expect(outbox.events.map((e) => e.type)).toEqual([
        IDENTIFIER_EVENTS.suspended,
        IDENTIFIER_EVENTS.suspended,
      ]);

      const revoked = await service.suspendForOwner(
        manager,
        'prov-a',
        'owner_revoked',
        'system:participant-events',
        'owner revoked',
      );
      expect(revoked).toBe(0);
      for (const id of [filed1, filed2])
        expect(identifiers.rows.get(id.identifier)?.suspensionCause).toBe('owner_revoked');
      expect(identifiers.rows.get(byOperator.identifier)?.suspensionCause).toBe('operator');
      expect(
        await service.restoreForOwner(manager, 'prov-a', 'system:participant-events', 'back'),
      ).toBe(0);
    });

    it('restores only identifiers suspended for the owner’s suspension', async () => {
      const { service, identifiers, outbox } = subject();
      const forOwner = seedIdentifier(identifiers, usableSerial(280), {
        state: 'suspended',
        suspensionCause: 'owner_suspended',
      });
      const byOperator = seedIdentifier(identifiers, usableSerial(290), {
        state: 'suspended',
        suspensionCause: 'operator',
      });
      const manager = await identifiers.inTransaction(async (m) => m);
      const count = await service.restoreForOwner(
        manager,
        'prov-a',
        'system:participant-events',
        'owner reinstated',
      );
      expect(count).toBe(1);
      expect(identifiers.rows.get(forOwner.identifier)).toMatchObject({
        state: 'filed',
        suspensionCause: null,
      });
      expect(identifiers.rows.get(byOperator.identifier)?.state).toBe('suspended');
      expect(outbox.events).toEqual([
        expect.objectContaining({
          type: IDENTIFIER_EVENTS.reinstated,
          data: expect.objectContaining({ identifier: forOwner.identifier, state: 'filed' }),
        }),
      ]);
    });
  });
});
