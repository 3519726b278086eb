import { FailedPreconditionError } from '@cinode/common';
import {
  IDENTIFIER_STATES,
  assertTransition,
  canTransition,
  type IdentifierStateName,
} from './identifier-states';

describe('identifier states', () => {
  const allowed: [IdentifierStateName, IdentifierStateName][] = [
    ['reserved', 'pending_filing'],
    ['pending_filing', 'filed'],
    ['pending_filing', 'retired'],
    ['filed', 'suspended'],
    ['filed', 'retired'],
    ['suspended', 'filed'],
    ['suspended', 'retired'],
  ];

  it('allows exactly the documented transitions', () => {
    for (const from of IDENTIFIER_STATES) {
      for (const to of IDENTIFIER_STATES) {
        const expected = allowed.some(([f, t]) => f === from && t === to);
        expect([from, to, canTransition(from, to)]).toEqual([from, to, expected]);
      }
    }
  });

  it('names the current state when it refuses a transition', () => {
    let error: unknown;
    try {
      assertTransition('CN.R0001.RP.000000010', 'retired', 'filed');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect((error as FailedPreconditionError).metadata).toEqual({
      current_state: 'RETIRED',
      requested_state: 'FILED',
    });
    expect((error as FailedPreconditionError).message).toContain('RETIRED');
  });

  it('never leaves retired', () => {
    expect(IDENTIFIER_STATES.filter((to) => canTransition('retired', to))).toEqual([]);
  });
});
