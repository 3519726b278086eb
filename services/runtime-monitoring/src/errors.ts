/**
 * Every ErrorInfo reason runtime monitoring answers with, besides the platform's (INVALID_REQUEST,
 * REQUEST_ID_REUSED, ...). The proto comments of each RPC list the ones it may return.
 */
export enum ErrorReason {
  ALERT_RULE_NOT_FOUND = 'ALERT_RULE_NOT_FOUND',
}
