import { DomainError } from '@cinode/common';
import { caller, fakes, seedIdentifier, usableSerial } from '../../test/identifier-fakes';
import type { IdentifierEntity } from '../identifiers/identifier.entity';
import {
  ISSUE_ROLES,
  RETIRE_ROLES,
  SUSPEND_ROLES,
  assertMayResolve,
  assertMayRetire,
  issuingOwner,
  listedOwner,
} from './identifier-access';

const providerA = caller('prov-a', ['provider']);
const colleagueOfA = caller('prov-a-user-2', ['provider'], 'prov-a');
const providerB = caller('prov-b', ['provider']);
const operator = caller('op-1', ['operator'], 'cinode');
const regulator = caller('reg-1', ['regulator'], 'regulator');
const serviceCaller = caller('service-center', ['service'], 'cinode');

function reasonOf(act: () => unknown): string | undefined {
  try {
    act();
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error.reason;
    throw error;
  }
}

function identifierOf(overrides: Partial<IdentifierEntity>): IdentifierEntity {
  return seedIdentifier(fakes().identifiers, usableSerial(10), overrides);
}

describe('identifier access rules', () => {
  it('admits regulators to nothing that changes identifiers, and services only to issuing', () => {
    for (const roles of [ISSUE_ROLES, SUSPEND_ROLES, RETIRE_ROLES])
      expect(roles).not.toContain('regulator');
    expect(ISSUE_ROLES).toContain('service');
    expect([...SUSPEND_ROLES, ...RETIRE_ROLES]).not.toContain('service');
    expect(SUSPEND_ROLES).toEqual(['operator']);
  });

  it('issues for the caller’s own tenant unless it acts for any owner', () => {
    expect(issuingOwner(providerA, '')).toBe('prov-a');
    expect(issuingOwner(colleagueOfA, 'prov-a')).toBe('prov-a');
    expect(reasonOf(() => issuingOwner(providerA, 'prov-b'))).toBe('NOT_OWNER');
    expect(issuingOwner(operator, 'prov-b')).toBe('prov-b');
    expect(issuingOwner(serviceCaller, 'prov-b')).toBe('prov-b');
  });

  it('resolves a filed identifier for anyone, another state only for its owner and overseers', () => {
    const filed = identifierOf({ state: 'filed' });
    const pending = identifierOf({ state: 'pending_filing' });
    expect(reasonOf(() => assertMayResolve(providerB, filed))).toBeUndefined();
    expect(reasonOf(() => assertMayResolve(providerB, pending))).toBe('IDENTIFIER_NOT_VISIBLE');
    for (const who of [providerA, colleagueOfA, operator, regulator, serviceCaller])
      expect(reasonOf(() => assertMayResolve(who, pending))).toBeUndefined();
  });

  it('lists a participant’s own identifiers whatever it asks, and lets overseers choose', () => {
    expect(listedOwner(providerA, '')).toBe('prov-a');
    expect(listedOwner(providerA, 'prov-a')).toBe('prov-a');
    expect(reasonOf(() => listedOwner(providerA, 'prov-b'))).toBe('NOT_OWNER');
    expect(listedOwner(regulator, '')).toBeUndefined();
    expect(listedOwner(operator, 'prov-b')).toBe('prov-b');
  });

  it('lets only the owner or an operator retire', () => {
    const filed = identifierOf({});
    expect(reasonOf(() => assertMayRetire(colleagueOfA, filed))).toBeUndefined();
    expect(reasonOf(() => assertMayRetire(operator, filed))).toBeUndefined();
    expect(reasonOf(() => assertMayRetire(providerB, filed))).toBe('NOT_OWNER');
  });
});
