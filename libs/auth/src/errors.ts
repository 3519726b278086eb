/**
 * The ErrorInfo reasons of token verification, answered by every service (UNAUTHENTICATED). Listed
 * in the README's "Errors" section; services add their own in their errors.ts.
 */
export enum TokenErrorReason {
  /** No `authorization: Bearer <token>` metadata. */
  TOKEN_MISSING = 'TOKEN_MISSING',
  /** Not a token this service can verify: bad signature, unknown key, issuer, claims. */
  TOKEN_INVALID = 'TOKEN_INVALID',
  /** Past its `exp` (plus the clock tolerance), or issued longer ago than the maximum lifetime. */
  TOKEN_EXPIRED = 'TOKEN_EXPIRED',
  /** Minted for another audience (e.g. a node token at the national node), or for several. */
  TOKEN_AUDIENCE_MISMATCH = 'TOKEN_AUDIENCE_MISMATCH',
  /** Its lifetime (`exp` - `iat`) is longer than this service accepts (AUTH_JWT_MAX_TTL_SECONDS). */
  TOKEN_LIFETIME_TOO_LONG = 'TOKEN_LIFETIME_TOO_LONG',
  /** Carries roles its signing key may not grant (docs/adr/0001). */
  TOKEN_SCOPE_MISMATCH = 'TOKEN_SCOPE_MISMATCH',
  /** A handler asked for the caller of a call the authorizer never verified. */
  NO_CALLER = 'NO_CALLER',
}
