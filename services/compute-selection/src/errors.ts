/**
 * Every ErrorInfo reason compute-selection answers with, besides the platform's (INVALID_REQUEST,
 * REQUEST_ID_REUSED, ...). The proto comments of each RPC list the ones it may return.
 */
export enum ErrorReason {
  INDEX_NOT_READY = 'INDEX_NOT_READY',
  LINE_NOT_FOUND = 'LINE_NOT_FOUND',
  VERSION_MISMATCH = 'VERSION_MISMATCH',
  NOT_A_PARTICIPANT = 'NOT_A_PARTICIPANT',
  NOT_OWNER = 'NOT_OWNER',
  OWNER_NOT_CERTIFIED = 'OWNER_NOT_CERTIFIED',
  IDENTIFIER_UNAVAILABLE = 'IDENTIFIER_UNAVAILABLE',
  IDENTIFIER_REFUSED = 'IDENTIFIER_REFUSED',
}
