/**
 * Every ErrorInfo reason resource-aggregation answers with, besides the platform's (INVALID_REQUEST,
 * REQUEST_ID_REUSED, ...). The proto comments of each RPC list the ones it may return.
 */
export enum ErrorReason {
  POOL_NOT_FOUND = 'POOL_NOT_FOUND',
  POOL_NOT_SELECTABLE = 'POOL_NOT_SELECTABLE',
  OWNER_NOT_CERTIFIED = 'OWNER_NOT_CERTIFIED',
  IDENTIFIER_UNAVAILABLE = 'IDENTIFIER_UNAVAILABLE',
  INSUFFICIENT_CAPACITY = 'INSUFFICIENT_CAPACITY',
  HOLD_NOT_FOUND = 'HOLD_NOT_FOUND',
  HOLD_NOT_ACTIVE = 'HOLD_NOT_ACTIVE',
}
