import { IdentifierReinstated, IdentifierRetired, IdentifierSuspended } from '@cinode/contracts';
import {
  NODE_PREFIX,
  caller,
  fakes,
  seedIdentifier,
  usableSerial,
} from '../../test/identifier-fakes';
import { expectDomainError } from '@cinode/testing';
import { formatIdentifier } from '../format/identifier-format';
import { LifecycleService } from './lifecycle.service';

const providerA = caller('prov-a', ['provider']);
const providerB = caller('prov-b', ['provider']);
const operator = caller('op-1', ['operator'], 'cinode');

function subject() {
  const under = fakes();
  under.participants.set('prov-a', 'CERTIFIED');
  const service = new LifecycleService(
    under.uow.asUnitOfWork,
    under.identifiers.asRepository,
    under.participants.asRepository,
    under.lifecycle,
  );
  return { ...under, service };
}

describe(LifecycleService.name, () => {
  it('suspends a filed identifier for an operator, recording actor, trimmed reason, cause and the next version', async () => {
    const { service, identifiers, uow } = subject();
    const filed = seedIdentifier(identifiers, usableSerial(100));

    const record = await service.suspend(operator, filed.identifier.toLowerCase(), ' misleading ');

    expect(record.entity).toMatchObject({
      state: 'suspended',
      suspensionCause: 'operator',
      version: 3,
    });
    expect(record.entity.stateChangedAt.getTime()).toBeGreaterThanOrEqual(
      filed.stateChangedAt.getTime(),
    );
    expect(identifiers.rows.get(filed.identifier)).toMatchObject({
      state: 'suspended',
      version: 3,
    });
    expect(record.transitions).toEqual([
      expect.objectContaining({
        fromState: 'filed',
        toState: 'suspended',
        actor: 'op-1',
        reason: 'misleading',
      }),
    ]);
    expect(uow.events).toEqual([
      {
        type: IdentifierSuspended.type,
        schemaVersion: 1,
        data: {
          identifier: filed.identifier,
          version: 3,
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
    const { service, identifiers, uow } = subject();
    const suspended = seedIdentifier(identifiers, usableSerial(110), {
      state: 'suspended',
      suspensionCause: 'operator',
      version: 3,
    });
    const record = await service.reinstate(operator, suspended.identifier, 'name corrected');
    expect(record.entity).toMatchObject({ state: 'filed', suspensionCause: null, version: 4 });
    expect(record.transitions.at(-1)).toMatchObject({
      fromState: 'suspended',
      toState: 'filed',
      actor: 'op-1',
      reason: 'name corrected',
    });
    expect(uow.events.map((e) => [e.type, (e.data as { version: number }).version])).toEqual([
      [IdentifierReinstated.type, 4],
    ]);
  });

  it.each(['SUSPENDED', 'REVOKED'] as const)(
    'keeps an identifier suspended while its owner is %s',
    async (ownerState) => {
      const { service, identifiers, participants, uow } = subject();
      participants.set('prov-a', ownerState);
      const suspended = seedIdentifier(identifiers, usableSerial(120), {
        state: 'suspended',
        suspensionCause: 'owner_suspended',
      });
      const error = await expectDomainError(
        service.reinstate(operator, suspended.identifier, 'try'),
      );
      expect(error.kind).toBe('FAILED_PRECONDITION');
      expect(error.reason).toBe('OWNER_NOT_ACTIVE');
      expect(error.metadata).toEqual({ current_state: 'SUSPENDED', owner_state: ownerState });
      expect(identifiers.rows.get(suspended.identifier)).toEqual(suspended);
      expect(identifiers.history).toHaveLength(0);
      expect(uow.events).toHaveLength(0);
    },
  );

  it('lets the owner retire its filed identifier and an operator retire a suspended one', async () => {
    const { service, identifiers, uow } = subject();
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
    expect(uow.events.map((e) => e.type)).toEqual([IdentifierRetired.type, IdentifierRetired.type]);
  });

  it('refuses another participant retiring an identifier', async () => {
    const { service, identifiers } = subject();
    const filed = seedIdentifier(identifiers, usableSerial(150));
    const error = await expectDomainError(service.retire(providerB, filed.identifier, 'not mine'));
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
      version: 1,
    });
    const error = await expectDomainError(service.retire(providerA, pending.identifier, 'give up'));
    expect(error.kind).toBe('FAILED_PRECONDITION');
    expect(error.reason).toBe('INVALID_TRANSITION');
    expect(error.metadata).toEqual({
      current_state: 'PENDING_FILING',
      requested_state: 'RETIRED',
    });

    identifiers.rows.set(pending.identifier, {
      ...pending,
      filingError: '3 INVALID_ARGUMENT: bad',
    });
    const retired = await service.retire(providerA, pending.identifier, 'give up');
    expect(retired.entity).toMatchObject({ state: 'retired', version: 2 });
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
      const { service, identifiers, uow } = subject();
      const seeded = seedIdentifier(identifiers, usableSerial(170), {
        state,
        suspensionCause: state === 'suspended' ? 'operator' : null,
      });
      const error = await expectDomainError(
        service[action](operator, seeded.identifier, 'because'),
      );
      expect(error.kind).toBe('FAILED_PRECONDITION');
      expect(error.reason).toBe('INVALID_TRANSITION');
      expect(error.metadata).toEqual({ current_state: current, requested_state: requested });
      expect(error.message).toContain(current);
      expect(identifiers.rows.get(seeded.identifier)).toEqual(seeded);
      expect(identifiers.history).toHaveLength(0);
      expect(uow.events).toHaveLength(0);
    },
  );

  it.each(['suspend', 'reinstate', 'retire'] as const)(
    'requires a reason of at most 500 characters to %s',
    async (action) => {
      const { service, identifiers } = subject();
      const filed = seedIdentifier(identifiers, usableSerial(180));
      for (const reason of ['  ', 'x'.repeat(501)]) {
        const error = await expectDomainError(service[action](operator, filed.identifier, reason));
        expect(error.kind).toBe('INVALID_ARGUMENT');
        expect(error.fieldViolations.map((v) => v.field)).toEqual(['reason']);
      }
      expect(identifiers.rows.get(filed.identifier)?.state).toBe('filed');
    },
  );

  it('answers NOT_FOUND for a transition of an identifier never issued', async () => {
    const { service } = subject();
    const error = await expectDomainError(
      service.suspend(operator, formatIdentifier(NODE_PREFIX, 'RP', usableSerial(190)), 'x'),
    );
    expect(error.kind).toBe('NOT_FOUND');
    expect(error.reason).toBe('IDENTIFIER_NOT_FOUND');
  });
});
