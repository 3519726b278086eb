/**
 * Every ErrorInfo reason the national node mock answers with, besides the platform's. The proto
 * comments of each RPC list the ones it may return.
 */
export enum ErrorReason {
  NODE_NOT_FOUND = 'NODE_NOT_FOUND',
  /** RegisterNode: the node key is registered with another type or region. */
  NODE_KEY_CONFLICT = 'NODE_KEY_CONFLICT',
  NODE_NOT_REGISTERED = 'NODE_NOT_REGISTERED',
  /** The node was registered with another node's service key: this caller cannot act for it. */
  NODE_NOT_OWNED = 'NODE_NOT_OWNED',
  IDENTIFIER_OUTSIDE_PREFIX = 'IDENTIFIER_OUTSIDE_PREFIX',
  /** FileIdentifier: the identifier is filed already with other content. */
  IDENTIFIER_ALREADY_FILED = 'IDENTIFIER_ALREADY_FILED',
  FILING_NOT_FOUND = 'FILING_NOT_FOUND',
  /** SubmitReport: the report id was received before with other content. */
  REPORT_ID_CONFLICT = 'REPORT_ID_CONFLICT',
  REPORT_NOT_FOUND = 'REPORT_NOT_FOUND',
  /** RegisterReportSigningKey: another node registered the key. */
  SIGNING_KEY_CONFLICT = 'SIGNING_KEY_CONFLICT',
  /** SubmitReport: the signing key id is no key of the reporting node. */
  SIGNING_KEY_NOT_REGISTERED = 'SIGNING_KEY_NOT_REGISTERED',
  /** SubmitReport: the Ed25519 signature does not verify against the node's key. */
  SIGNATURE_INVALID = 'SIGNATURE_INVALID',
  /** SubmitReport: a special report names no special request issued to the node. */
  SPECIAL_REQUEST_NOT_FOUND = 'SPECIAL_REQUEST_NOT_FOUND',
  INJECTED_OUTAGE = 'INJECTED_OUTAGE',
  INJECTED_UNAVAILABLE = 'INJECTED_UNAVAILABLE',
}

/**
 * The national node's writes are idempotent on natural keys (a node key, an identifier, a report
 * id) whoever sends them: their idempotency keys share one scope.
 */
export const NATIONAL_SCOPE = 'national';
