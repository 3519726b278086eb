import {
  IdentifierFiled,
  IdentifierReinstated,
  IdentifierRetired,
  IdentifierSuspended,
  type IdentifierChanges,
} from '@cinode/contracts';
import { IdentifierState } from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';

/** Where an object's identifier stands, as the services that own the object track it. */
export type Filing = 'pending' | 'filed' | 'suspended';

type IdentifierContract = (typeof IdentifierChanges.events)[number];

/** The filing an identifier in `state` gives its object. */
export function filingOf(state: IdentifierState): Filing {
  switch (state) {
    case IdentifierState.IDENTIFIER_STATE_FILED:
      return 'filed';
    case IdentifierState.IDENTIFIER_STATE_SUSPENDED:
    case IdentifierState.IDENTIFIER_STATE_RETIRED:
      return 'suspended';
    default:
      return 'pending';
  }
}

/**
 * The filing each identifier event leaves its object in: usable once the national node accepted
 * the filing, not while suspended or once retired; issuance changes nothing (undefined).
 */
export function filingAfter(type: IdentifierContract['type']): Filing | undefined {
  switch (type) {
    case IdentifierFiled.type:
    case IdentifierReinstated.type:
      return 'filed';
    case IdentifierSuspended.type:
    case IdentifierRetired.type:
      return 'suspended';
    default:
      return undefined;
  }
}
