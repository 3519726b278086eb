import {
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
  ValidationError,
} from '@cinode/common';
import type { ParseFailure } from './format/identifier-format';

/**
 * Every ErrorInfo reason the identifier service answers with. The platform adds its own
 * (TOKEN_*, ROLE_NOT_ALLOWED, DEADLINE_EXCEEDED, CANCELLED); the proto comment of each RPC lists
 * the ones it may return.
 */
export enum IdentifierErrorReason {
  /** INVALID_ARGUMENT: one or more fields are malformed (field violations name them). */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** INVALID_ARGUMENT: the identifier does not follow the grammar. */
  IDENTIFIER_GRAMMAR = 'IDENTIFIER_GRAMMAR',
  /** INVALID_ARGUMENT: the object-type segment is not one of RP, PT, LN, AS. */
  IDENTIFIER_OBJECT_TYPE = 'IDENTIFIER_OBJECT_TYPE',
  /** INVALID_ARGUMENT: the check character does not match (a typo). */
  IDENTIFIER_CHECK_CHARACTER = 'IDENTIFIER_CHECK_CHARACTER',
  /** INVALID_ARGUMENT: a deprecated owner field contradicts the owner's certified record. */
  OWNER_RECORD_MISMATCH = 'OWNER_RECORD_MISMATCH',
  /** NOT_FOUND: a well-formed identifier this node never issued. */
  IDENTIFIER_NOT_FOUND = 'IDENTIFIER_NOT_FOUND',
  /** PERMISSION_DENIED: a participant acting on another participant's identifiers. */
  NOT_OWNER = 'NOT_OWNER',
  /** PERMISSION_DENIED: the identifier is not filed and belongs to another participant. */
  IDENTIFIER_NOT_VISIBLE = 'IDENTIFIER_NOT_VISIBLE',
  /** FAILED_PRECONDITION: the lifecycle does not allow the move from the current state. */
  INVALID_TRANSITION = 'INVALID_TRANSITION',
  /** FAILED_PRECONDITION: the owner is unknown here or not CERTIFIED. */
  OWNER_NOT_CERTIFIED = 'OWNER_NOT_CERTIFIED',
  /** FAILED_PRECONDITION: the owner is suspended or revoked, so its identifiers stay suspended. */
  OWNER_NOT_ACTIVE = 'OWNER_NOT_ACTIVE',
  /** ALREADY_EXISTS: the request_id was used before for other content (raised by the UnitOfWork). */
  REQUEST_ID_REUSED = 'REQUEST_ID_REUSED',
  /** RESOURCE_EXHAUSTED: every serial of the node is used. */
  SERIALS_EXHAUSTED = 'SERIALS_EXHAUSTED',
  /** UNAVAILABLE: the node has no identifier prefix from the national node yet. */
  NODE_NOT_REGISTERED = 'NODE_NOT_REGISTERED',
}

const PARSE_FAILURE_REASON: Readonly<Record<ParseFailure, IdentifierErrorReason>> = {
  GRAMMAR: IdentifierErrorReason.IDENTIFIER_GRAMMAR,
  OBJECT_TYPE: IdentifierErrorReason.IDENTIFIER_OBJECT_TYPE,
  CHECK_CHARACTER: IdentifierErrorReason.IDENTIFIER_CHECK_CHARACTER,
};

export function malformedIdentifier(failure: ParseFailure, message: string): ValidationError {
  return new ValidationError(
    [{ field: 'identifier', description: message }],
    PARSE_FAILURE_REASON[failure],
  );
}

export function identifierNotFound(identifier: string): NotFoundError {
  return new NotFoundError(
    IdentifierErrorReason.IDENTIFIER_NOT_FOUND,
    `identifier ${identifier} was never issued by this node`,
  );
}

export function notOwner(message: string): PermissionDeniedError {
  return new PermissionDeniedError(IdentifierErrorReason.NOT_OWNER, message);
}

export function identifierNotVisible(identifier: string): PermissionDeniedError {
  return new PermissionDeniedError(
    IdentifierErrorReason.IDENTIFIER_NOT_VISIBLE,
    `identifier ${identifier} is not filed and belongs to another participant`,
  );
}

/** States are named upper case in messages and metadata, as the proto enums spell them. */
export function invalidTransition(
  identifier: string,
  from: string,
  to: string,
  message = `identifier ${identifier} is ${from.toUpperCase()} and cannot become ${to.toUpperCase()}`,
): FailedPreconditionError {
  return new FailedPreconditionError(IdentifierErrorReason.INVALID_TRANSITION, message, {
    metadata: { current_state: from.toUpperCase(), requested_state: to.toUpperCase() },
  });
}

export function ownerNotCertified(
  owner: string,
  state: string | undefined,
  message = state === undefined
    ? `participant ${owner} is not known here as certified and may not own identifiers`
    : `participant ${owner} is ${state} and may not own new identifiers`,
): FailedPreconditionError {
  return new FailedPreconditionError(IdentifierErrorReason.OWNER_NOT_CERTIFIED, message, {
    metadata: { current_state: state ?? 'UNKNOWN' },
  });
}

export function ownerNotActive(
  identifier: string,
  currentState: string,
  owner: string,
  ownerState: string,
): FailedPreconditionError {
  return new FailedPreconditionError(
    IdentifierErrorReason.OWNER_NOT_ACTIVE,
    `the owner ${owner} of ${identifier} is ${ownerState}; its identifiers stay suspended`,
    { metadata: { current_state: currentState.toUpperCase(), owner_state: ownerState } },
  );
}

export function ownerRecordMismatch(fields: readonly string[]): ValidationError {
  return new ValidationError(
    fields.map((field) => ({
      field,
      description: "does not match the owner's certified record",
    })),
    IdentifierErrorReason.OWNER_RECORD_MISMATCH,
  );
}

export function serialsExhausted(): ResourceExhaustedError {
  return new ResourceExhaustedError(
    IdentifierErrorReason.SERIALS_EXHAUSTED,
    'the node has used every serial',
  );
}

export function nodeNotRegistered(retryAfterSeconds: number): UnavailableError {
  return new UnavailableError(
    IdentifierErrorReason.NODE_NOT_REGISTERED,
    'the node is not yet registered with the national node; identifiers cannot be issued yet',
    { retryAfterSeconds },
  );
}
