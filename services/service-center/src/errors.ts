/**
 * Every ErrorInfo reason the service center answers with, besides the platform's (INVALID_REQUEST,
 * TOKEN_*, ROLE_NOT_ALLOWED, REQUEST_ID_REUSED, DEADLINE_EXCEEDED). The proto comments of each RPC
 * list the ones it may return.
 */
export enum ErrorReason {
  PARTICIPANT_NOT_FOUND = 'PARTICIPANT_NOT_FOUND',
  PARTICIPANT_REVOKED = 'PARTICIPANT_REVOKED',
  FIELD_NOT_CHANGEABLE = 'FIELD_NOT_CHANGEABLE',
  /** A participant may read or change only its own records. */
  NOT_OWN_RECORD = 'NOT_OWN_RECORD',
  /** The certification state machine does not allow the action from the current state. */
  INVALID_TRANSITION = 'INVALID_TRANSITION',
  QUALIFICATION_NOT_FOUND = 'QUALIFICATION_NOT_FOUND',
  NOT_A_RESELLER = 'NOT_A_RESELLER',
  PARTICIPANT_NOT_CERTIFIED = 'PARTICIPANT_NOT_CERTIFIED',
  NO_VALID_QUALIFICATION = 'NO_VALID_QUALIFICATION',
  API_KEY_NOT_FOUND = 'API_KEY_NOT_FOUND',
  API_KEY_REVOKED = 'API_KEY_REVOKED',
  /** IssueToken: the key is unknown, revoked or malformed (deliberately one answer for all three). */
  API_KEY_INVALID = 'API_KEY_INVALID',
  TOO_MANY_FAILED_ATTEMPTS = 'TOO_MANY_FAILED_ATTEMPTS',
  DEMAND_NOT_FOUND = 'DEMAND_NOT_FOUND',
  ORDER_NOT_FOUND = 'ORDER_NOT_FOUND',
  /** PlaceOrder: the pool is not among the demand's stored candidates. */
  NOT_A_CANDIDATE = 'NOT_A_CANDIDATE',
  /** PlaceOrder: the demand's candidates are older than ORDER_CANDIDATE_MAX_AGE_SECONDS. */
  CANDIDATES_EXPIRED = 'CANDIDATES_EXPIRED',
  /** PlaceOrder: resource aggregation could not hold the capacity; the order is REFUSED. */
  CAPACITY_UNAVAILABLE = 'CAPACITY_UNAVAILABLE',
  DEMAND_ALREADY_ORDERED = 'DEMAND_ALREADY_ORDERED',
  /** PlaceOrder: resource aggregation refused the hold for another lasting reason; the order is REFUSED. */
  ORDER_REFUSED = 'ORDER_REFUSED',
  /** CancelOrder: the order completed, failed or was refused, or its task had finished already. */
  ORDER_FINISHED = 'ORDER_FINISHED',
  /** CancelOrder: resource aggregation refused to release the order's hold; the order is unchanged. */
  HOLD_RELEASE_REFUSED = 'HOLD_RELEASE_REFUSED',
  SELECTION_UNAVAILABLE = 'SELECTION_UNAVAILABLE',
  AGGREGATION_UNAVAILABLE = 'AGGREGATION_UNAVAILABLE',
}
