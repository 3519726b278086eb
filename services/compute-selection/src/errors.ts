/**
 * Every ErrorInfo reason compute-selection answers with, besides the platform's (INVALID_REQUEST,
 * ...). The proto comments of each RPC list the ones it may return.
 */
export enum ErrorReason {
  INDEX_NOT_READY = 'INDEX_NOT_READY',
}
