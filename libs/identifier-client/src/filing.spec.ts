import {
  IdentifierFiled,
  IdentifierIssued,
  IdentifierReinstated,
  IdentifierRetired,
  IdentifierSuspended,
} from '@cinode/contracts';
import { IdentifierState } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { filingAfter, filingOf } from './filing';

describe(filingOf.name, () => {
  it('makes an object usable only once its identifier is filed', () => {
    expect(filingOf(IdentifierState.IDENTIFIER_STATE_FILED)).toBe('filed');
    expect(filingOf(IdentifierState.IDENTIFIER_STATE_PENDING_FILING)).toBe('pending');
    expect(filingOf(IdentifierState.IDENTIFIER_STATE_SUSPENDED)).toBe('suspended');
    expect(filingOf(IdentifierState.IDENTIFIER_STATE_RETIRED)).toBe('suspended');
  });
});

describe(filingAfter.name, () => {
  it('follows filing, suspension, reinstatement and retirement; issuance changes nothing', () => {
    expect(filingAfter(IdentifierFiled.type)).toBe('filed');
    expect(filingAfter(IdentifierReinstated.type)).toBe('filed');
    expect(filingAfter(IdentifierSuspended.type)).toBe('suspended');
    expect(filingAfter(IdentifierRetired.type)).toBe('suspended');
    expect(filingAfter(IdentifierIssued.type)).toBeUndefined();
  });
});
