import { IdentifierIssued, type ParticipantStateName } from '@cinode/contracts';
import {
  ObjectType,
  type IssueIdentifierRequest,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import {
  CREDIT_CODE,
  LEGAL_NAME,
  NODE_PREFIX,
  caller,
  fakes,
  unusableSerial,
  usableSerial,
} from '../../test/identifier-fakes';
import { expectDomainError } from '@cinode/testing';
import { formatIdentifier, parseIdentifier } from '../format/identifier-format';
import { ISSUE_OPERATION, IssuanceService } from './issuance.service';

/** An object type number from a newer client, unknown to this build. */
const NEWER_OBJECT_TYPE: number = 99;

const providerA = caller('prov-a', ['provider']);
const providerB = caller('prov-b', ['provider']);
const operator = caller('op-1', ['operator'], 'cinode');
const serviceCaller = caller('service-center', ['service'], 'cinode');

function issueRequest(overrides: Partial<IssueIdentifierRequest> = {}): IssueIdentifierRequest {
  return {
    requestId: 'req-1',
    objectType: ObjectType.OBJECT_TYPE_RESOURCE_POOL,
    objectName: '  GPU pool east-1 ',
    ownerParticipantId: '',
    ownerName: '',
    ownerCreditCode: '',
    attributes: { region: 'east' },
    ...overrides,
  };
}

/** Certified providers A and B, with the service and its fakes. */
function subject() {
  const under = fakes();
  under.participants.set('prov-a', 'CERTIFIED');
  under.participants.set('prov-b', 'CERTIFIED', {
    legalName: 'Jane Doe',
    creditCode: null,
    kind: 'USER',
  });
  const service = new IssuanceService(
    under.uow.asUnitOfWork,
    under.identifiers.asRepository,
    under.participants.asRepository,
    under.node.asService,
  );
  return { ...under, service };
}

describe(IssuanceService.name, () => {
  it('issues a pending identifier for a certified participant, recording reserved and pending_filing and the issued event with version 1', async () => {
    const { service, identifiers, uow } = subject();
    const { record, created } = await service.issue(providerA, issueRequest());

    expect(created).toBe(true);
    const parsed = parseIdentifier(record.entity.identifier);
    expect(parsed.ok && parsed.value.canonical).toBe(record.entity.identifier);
    expect(record.entity.identifier.startsWith(`${NODE_PREFIX}.RP.`)).toBe(true);
    expect(record.entity).toMatchObject({
      state: 'pending_filing',
      version: 1,
      nodeCode: 'R0001',
      objectType: 'RP',
      objectName: 'GPU pool east-1',
      ownerParticipantId: 'prov-a',
      ownerName: LEGAL_NAME,
      ownerCreditCode: CREDIT_CODE,
      issuedBy: 'prov-a',
      filingNumber: null,
      filingError: null,
    });
    expect(identifiers.rows.get(record.entity.identifier)?.state).toBe('pending_filing');
    expect(record.transitions.map((t) => [t.fromState, t.toState, t.actor])).toEqual([
      [null, 'reserved', 'prov-a'],
      ['reserved', 'pending_filing', 'prov-a'],
    ]);
    expect(uow.events).toEqual([
      {
        type: IdentifierIssued.type,
        schemaVersion: 1,
        data: {
          identifier: record.entity.identifier,
          version: 1,
          nodeCode: 'R0001',
          objectType: 'RP',
          ownerParticipantId: 'prov-a',
        },
      },
    ]);
  });

  it('files the owner’s certified name and credit code, whatever the caller is', async () => {
    const { service } = subject();
    const individual = await service.issue(providerB, issueRequest());
    expect(individual.record.entity).toMatchObject({ ownerName: 'Jane Doe', ownerCreditCode: '' });
    const byOperator = await service.issue(
      operator,
      issueRequest({ ownerParticipantId: 'prov-a', ownerName: LEGAL_NAME }),
    );
    expect(byOperator.record.entity).toMatchObject({
      ownerParticipantId: 'prov-a',
      ownerName: LEGAL_NAME,
      ownerCreditCode: CREDIT_CODE,
      issuedBy: 'op-1',
    });
  });

  it('accepts the deprecated owner fields when they repeat the certified record', async () => {
    const { service } = subject();
    const { created } = await service.issue(
      providerA,
      issueRequest({ ownerName: ` ${LEGAL_NAME} `, ownerCreditCode: CREDIT_CODE }),
    );
    expect(created).toBe(true);
  });

  it('refuses deprecated owner fields that contradict the certified record, naming each field, and stores nothing', async () => {
    const { service, identifiers, uow } = subject();
    const error = await expectDomainError(
      service.issue(
        providerA,
        issueRequest({ ownerName: 'Other Ltd.', ownerCreditCode: '91110000MA0000000X' }),
      ),
    );
    expect(error.kind).toBe('INVALID_ARGUMENT');
    expect(error.reason).toBe('OWNER_RECORD_MISMATCH');
    expect(error.fieldViolations).toEqual([
      { field: 'owner_name', description: "does not match the owner's certified record" },
      { field: 'owner_credit_code', description: "does not match the owner's certified record" },
    ]);
    const forIndividual = await expectDomainError(
      service.issue(providerB, issueRequest({ ownerCreditCode: CREDIT_CODE })),
    );
    expect(forIndividual.fieldViolations.map((v) => v.field)).toEqual(['owner_credit_code']);
    expect(identifiers.rows.size).toBe(0);
    expect(uow.events).toHaveLength(0);
    expect(uow.keys.size).toBe(0);
  });

  it.each([
    ['UNDER_REVIEW', 'UNDER_REVIEW'],
    ['REJECTED', 'REJECTED'],
    ['SUSPENDED', 'SUSPENDED'],
    ['REVOKED', 'REVOKED'],
    [undefined, 'UNKNOWN'],
  ] as const)(
    'refuses a participant whose state is %s, naming the state, and stores nothing',
    async (state: ParticipantStateName | undefined, named) => {
      const { service, participants, identifiers, uow } = subject();
      if (state) participants.set('prov-a', state);
      else participants.rows.delete('prov-a');

      const error = await expectDomainError(service.issue(providerA, issueRequest()));

      expect(error.kind).toBe('FAILED_PRECONDITION');
      expect(error.reason).toBe('OWNER_NOT_CERTIFIED');
      expect(error.metadata.current_state).toBe(named);
      expect(identifiers.rows.size).toBe(0);
      expect(identifiers.history).toHaveLength(0);
      expect(uow.events).toHaveLength(0);
    },
  );

  it.each([
    ['an operator', operator],
    ['a service', serviceCaller],
  ])('lets %s issue for any certified owner, and for no other', async (_who, privileged) => {
    const { service, participants } = subject();
    const forB = await service.issue(privileged, issueRequest({ ownerParticipantId: 'prov-b' }));
    expect(forB.record.entity).toMatchObject({
      ownerParticipantId: 'prov-b',
      issuedBy: privileged.subject,
    });
    participants.set('prov-new', 'UNDER_REVIEW');
    participants.set('prov-gone', 'SUSPENDED');
    for (const [owner, state] of [
      ['prov-new', 'UNDER_REVIEW'],
      ['prov-gone', 'SUSPENDED'],
      ['prov-unknown', 'UNKNOWN'],
    ]) {
      const error = await expectDomainError(
        service.issue(privileged, issueRequest({ requestId: owner, ownerParticipantId: owner })),
      );
      expect([owner, error.reason, error.metadata.current_state]).toEqual([
        owner,
        'OWNER_NOT_CERTIFIED',
        state,
      ]);
    }
  });

  it('refuses an owner whose certified record has not reached the projection yet', async () => {
    const { service, participants } = subject();
    participants.set('prov-a', 'CERTIFIED', { version: 0, legalName: null, creditCode: null });
    const error = await expectDomainError(service.issue(providerA, issueRequest()));
    expect(error.reason).toBe('OWNER_NOT_CERTIFIED');
    expect(error.message).toContain('certified record');
  });

  it('refuses a certified participant issuing for another owner', async () => {
    const { service, identifiers } = subject();
    const error = await expectDomainError(
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

  it('requires an operator to name the owner', async () => {
    const { service } = subject();
    const error = await expectDomainError(service.issue(operator, issueRequest()));
    expect(error.kind).toBe('INVALID_ARGUMENT');
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['owner_participant_id']);
  });

  it('returns the first identifier when the same caller repeats a request_id, without a second record or event', async () => {
    const { service, identifiers, uow } = subject();
    const first = await service.issue(providerA, issueRequest());
    const again = await service.issue(providerA, issueRequest());
    expect(again.created).toBe(false);
    expect(again.record.entity.identifier).toBe(first.record.entity.identifier);
    expect(again.record.transitions).toHaveLength(2);
    expect(identifiers.rows.size).toBe(1);
    expect(uow.events).toHaveLength(1);
    expect([...uow.keys.entries()]).toEqual([
      [
        'prov-a\u0000req-1',
        expect.objectContaining({
          operation: ISSUE_OPERATION,
          objectId: first.record.entity.identifier,
        }),
      ],
    ]);
  });

  it.each([
    ['object type', { objectType: ObjectType.OBJECT_TYPE_LINE }],
    ['object name', { objectName: 'something else' }],
    ['attributes', { attributes: { region: 'west' } }],
  ])(
    'refuses the same request_id with another %s as ALREADY_EXISTS REQUEST_ID_REUSED',
    async (_what, change) => {
      const { service, identifiers, uow } = subject();
      await service.issue(providerA, issueRequest());
      const error = await expectDomainError(service.issue(providerA, issueRequest(change)));
      expect(error.kind).toBe('ALREADY_EXISTS');
      expect(error.reason).toBe('REQUEST_ID_REUSED');
      expect(identifiers.rows.size).toBe(1);
      expect(uow.events).toHaveLength(1);
    },
  );

  it('binds the request_id to the owner it resolved to', async () => {
    const { service } = subject();
    await service.issue(operator, issueRequest({ ownerParticipantId: 'prov-a' }));
    const error = await expectDomainError(
      service.issue(operator, issueRequest({ ownerParticipantId: 'prov-b' })),
    );
    expect(error.reason).toBe('REQUEST_ID_REUSED');
  });

  it('answers a repeated request_id even after the owner lost its certification', async () => {
    const { service, participants } = subject();
    const first = await service.issue(providerA, issueRequest());
    participants.set('prov-a', 'SUSPENDED');
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
    expect(identifiers.rows.size).toBe(4);
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

  it('answers RESOURCE_EXHAUSTED once every serial is used, storing nothing, not even the request id', async () => {
    const { service, identifiers, uow } = subject();
    identifiers.serials = [100_000_000];
    const error = await expectDomainError(service.issue(providerA, issueRequest()));
    expect(error.kind).toBe('RESOURCE_EXHAUSTED');
    expect(error.reason).toBe('SERIALS_EXHAUSTED');
    expect(identifiers.rows.size).toBe(0);
    expect(uow.events).toHaveLength(0);
    expect(uow.keys.size).toBe(0);
  });

  it('answers UNAVAILABLE until the node is registered', async () => {
    const { service, node, identifiers } = subject();
    node.identity = undefined;
    const error = await expectDomainError(service.issue(providerA, issueRequest()));
    expect(error.kind).toBe('UNAVAILABLE');
    expect(error.reason).toBe('NODE_NOT_REGISTERED');
    expect(identifiers.rows.size).toBe(0);
  });

  it('reports every invalid field at once', async () => {
    const { service, identifiers } = subject();
    const attributes: Record<string, string> = { big: 'x'.repeat(1025) };
    for (let i = 0; i < 32; i++) attributes[`k${i}`] = 'v';
    const error = await expectDomainError(
      service.issue(
        providerA,
        issueRequest({
          requestId: 'has space',
          objectType: ObjectType.OBJECT_TYPE_UNSPECIFIED,
          objectName: '   ',
          ownerName: 'x'.repeat(201),
          ownerCreditCode: 'not-a-code',
          attributes,
        }),
      ),
    );
    expect(error.kind).toBe('INVALID_ARGUMENT');
    expect(error.reason).toBe('INVALID_REQUEST');
    expect(error.fieldViolations.map((v) => v.field).sort()).toEqual(
      [
        'attributes',
        'attributes[big]',
        'object_name',
        'object_type',
        'owner_name',
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
    const error = await expectDomainError(
      service.issue(providerA, issueRequest({ objectType: NEWER_OBJECT_TYPE })),
    );
    expect(error.fieldViolations).toEqual([
      { field: 'object_type', description: 'unknown value 99' },
    ]);
  });
});
