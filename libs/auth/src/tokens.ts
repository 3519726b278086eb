import { randomUUID } from 'node:crypto';
import { ExpiringCache, UnauthenticatedError } from '@cinode/common';
import {
  SignJWT,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWK,
  type KeyLike,
} from 'jose';
import { TokenErrorReason } from './errors';
import { KeyRing, SERVICE_SCOPE_MEMBER, type KeyScope, type ResolvedKey } from './key-ring';
import { isRole, type Caller, type Role } from './roles';

const ALGORITHM = 'EdDSA';
/** Verified tokens remembered (the oldest forgotten first), and for at most this long each. */
const VERIFIED_TOKEN_CAPACITY = 10_000;
const VERIFIED_TOKEN_TTL_MS = 60_000;
/** header.payload.signature in unpadded base64url; an Ed25519 signature is 64 bytes, 86 characters. */
const COMPACT_EDDSA_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/;
const MAX_TOKEN_LENGTH = 8_192;

/**
 * The audience of tokens a node presents to the national node (its AUTH_JWT_AUDIENCE, the
 * identifier's NATIONAL_NODE_AUDIENCE). Node services expect `cinode`, so a token one side
 * received is worth nothing at the other.
 */
export const NATIONAL_NODE_AUDIENCE = 'national-node';

export interface TokenSettings {
  issuer: string;
  /** The audience tokens are minted for, and the one a verifier requires. */
  audience: string;
}

/** What a verifier accepts besides issuer and audience (AUTH_JWT_MAX_TTL_SECONDS, ..._CLOCK_...). */
export interface VerificationLimits {
  /** Longest lifetime (`exp` - `iat`) accepted; a token is also refused once this old. */
  maxLifetimeSeconds: number;
  /** Leeway for clocks that disagree, applied to `exp`, `iat` and `nbf`. */
  clockToleranceSeconds: number;
}

export const DEFAULT_VERIFICATION_LIMITS: VerificationLimits = {
  maxLifetimeSeconds: 3600,
  clockToleranceSeconds: 10,
};

/** Parses AUTH_JWT_PUBLIC_KEYS: a JWKS document, or a single JWK. */
export function parseJwks(json: string): JSONWebKeySet {
  const parsed: unknown = JSON.parse(json);
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    Array.isArray((parsed as JSONWebKeySet).keys)
  ) {
    return parsed as JSONWebKeySet;
  }
  if (typeof parsed === 'object' && parsed !== null && 'kty' in parsed)
    return { keys: [parsed as JWK] };
  throw new Error('AUTH_JWT_PUBLIC_KEYS must be a JWKS ({"keys":[...]}) or a single JWK');
}

/**
 * Verifies caller tokens locally. Keys are selected by `kid` from a KeyRing (several may be valid at
 * once, so signing keys rotate without downtime), and a key's scope limits what it may sign:
 * service keys only `service`-role tokens, participant keys never the `service` role. A token names
 * exactly one audience, this verifier's; its lifetime may not exceed the configured maximum.
 */
export class TokenVerifier {
  private readonly ring: KeyRing;
  private readonly limits: VerificationLimits;
  private readonly verified = new ExpiringCache<
    string,
    { caller: Caller; kid: string; key: ResolvedKey['key'] }
  >(VERIFIED_TOKEN_CAPACITY);

  constructor(
    keys: KeyRing | JSONWebKeySet,
    private readonly settings: TokenSettings & Partial<VerificationLimits>,
  ) {
    this.ring = keys instanceof KeyRing ? keys : new KeyRing(keys.keys);
    this.limits = {
      maxLifetimeSeconds:
        settings.maxLifetimeSeconds ?? DEFAULT_VERIFICATION_LIMITS.maxLifetimeSeconds,
      clockToleranceSeconds:
        settings.clockToleranceSeconds ?? DEFAULT_VERIFICATION_LIMITS.clockToleranceSeconds,
    };
  }

  /**
   * A token verified before, answered from memory without waiting while it is valid and its key
   * is still one the ring serves (a key dropped, rotated out or stale ends its tokens here too):
   * the signature check is the largest cost of a small call. Undefined: verify() it.
   */
  remembered(token: string): Caller | undefined {
    const known = this.verified.get(token);
    if (!known) return undefined;
    if (this.ring.resolveNow(known.kid)?.key === known.key) return copyOf(known.caller);
    this.verified.delete(token);
    return undefined;
  }

  async verify(token: string): Promise<Caller> {
    const now = Date.now();
    const remembered = this.remembered(token);
    if (remembered) return remembered;
    // Only the canonical compact form: base64url decoding skips stray characters, so one genuine
    // token could otherwise be sent in endless spellings, each verifying (and each remembered).
    // (A remembered token passed this check when it was first verified.)
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_EDDSA_JWS.test(token))
      throw new UnauthenticatedError(TokenErrorReason.TOKEN_INVALID, 'token is malformed');
    const { caller, signer } = await this.verifyAfresh(token);
    if (signer) {
      const until = Math.min(
        caller.expiresAt.getTime() + this.limits.clockToleranceSeconds * 1000,
        now + VERIFIED_TOKEN_TTL_MS,
      );
      this.verified.set(token, { caller: copyOf(caller), kid: signer.kid, key: signer.key }, until);
    }
    return caller;
  }

  private async verifyAfresh(
    token: string,
  ): Promise<{ caller: Caller; signer: ResolvedKey | undefined }> {
    let payload: JWTPayload;
    let signer: ResolvedKey | undefined;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          signer = await this.ring.resolve(header.kid);
          if (!signer) throw new UnknownSigningKey();
          return signer.key;
        },
        {
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          algorithms: [ALGORITHM],
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
          maxTokenAge: this.limits.maxLifetimeSeconds,
          clockTolerance: this.limits.clockToleranceSeconds,
        },
      ));
    } catch (error) {
      throw refusalOf(error);
    }
    if (Array.isArray(payload.aud) && payload.aud.length !== 1)
      throw new UnauthenticatedError(
        TokenErrorReason.TOKEN_AUDIENCE_MISMATCH,
        'a token names exactly one audience',
      );
    // jose has checked both are numbers (exp and iat are required).
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > this.limits.maxLifetimeSeconds)
      throw new UnauthenticatedError(
        TokenErrorReason.TOKEN_LIFETIME_TOO_LONG,
        `token lifetime exceeds ${this.limits.maxLifetimeSeconds} s`,
      );
    const roles: Role[] = Array.isArray(payload.roles) ? payload.roles.filter(isRole) : [];
    if (roles.length === 0)
      throw new UnauthenticatedError(TokenErrorReason.TOKEN_INVALID, 'token carries no known role');
    const serviceToken = roles.includes('service');
    if (signer?.scope === 'service' ? !(serviceToken && roles.length === 1) : serviceToken) {
      throw new UnauthenticatedError(
        TokenErrorReason.TOKEN_SCOPE_MISMATCH,
        'token carries roles its signing key may not grant',
      );
    }
    const caller: Caller = {
      subject: String(payload.sub),
      roles,
      tenant: typeof payload.tenant === 'string' ? payload.tenant : String(payload.sub),
      tokenId: String(payload.jti),
      expiresAt: new Date((payload.exp ?? 0) * 1000),
      signingKeyId: signer?.kid,
    };
    return { caller, signer };
  }
}

class UnknownSigningKey extends Error {}

/** A caller no one else holds: what one call does with it never reaches the next. */
function copyOf(caller: Caller): Caller {
  return { ...caller, roles: [...caller.roles], expiresAt: new Date(caller.expiresAt.getTime()) };
}

function refusalOf(error: unknown): UnauthenticatedError {
  if (error instanceof joseErrors.JWTExpired)
    return new UnauthenticatedError(TokenErrorReason.TOKEN_EXPIRED, 'token expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud')
    return new UnauthenticatedError(
      TokenErrorReason.TOKEN_AUDIENCE_MISMATCH,
      'token was minted for another audience',
    );
  return new UnauthenticatedError(TokenErrorReason.TOKEN_INVALID, 'invalid token');
}

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** A new Ed25519 key pair as JWKs; a service key's public half is marked with its scope. */
export async function generateSigningKey(
  kid: string = randomUUID(),
  scope: KeyScope = 'participant',
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, {
    crv: 'Ed25519',
    extractable: true,
  });
  const marker = scope === 'service' ? { [SERVICE_SCOPE_MEMBER]: 'service' } : {};
  const privateJwk = {
    ...(await exportJWK(privateKey)),
    kid,
    alg: ALGORITHM,
    use: 'sig',
    ...marker,
  };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig', ...marker };
  return { kid, privateJwk, publicJwk };
}

/** A signing key from its private JWK (e.g. AUTH_SERVICE_SIGNING_KEY); the public half is derived. */
export function signingKeyFromPrivateJwk(json: string): SigningKey {
  const privateJwk = JSON.parse(json) as JWK;
  if (
    privateJwk.kty !== 'OKP' ||
    privateJwk.crv !== 'Ed25519' ||
    !privateJwk.d ||
    !privateJwk.x ||
    !privateJwk.kid
  ) {
    throw new Error('a signing key must be an Ed25519 private JWK with kid, x and d');
  }
  const { d: _private, ...publicJwk } = privateJwk;
  return { kid: privateJwk.kid, privateJwk, publicJwk };
}

export interface TokenClaims {
  subject: string;
  roles: Role[];
  tenant?: string;
  ttlSeconds: number;
  /** The audience, when not the issuer's own (e.g. a service token for the national node). */
  audience?: string;
}

/** Signs caller tokens. The service center issues participants' tokens with it; tests use it too. */
export class TokenIssuer {
  private key: Promise<KeyLike | Uint8Array>;

  constructor(
    private readonly signingKey: SigningKey,
    private readonly settings: TokenSettings,
  ) {
    this.key = importJWK(signingKey.privateJwk, ALGORITHM);
  }

  async issue(claims: TokenClaims): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: claims.roles, tenant: claims.tenant ?? claims.subject })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.signingKey.kid, typ: 'JWT' })
      .setIssuer(this.settings.issuer)
      .setAudience(claims.audience ?? this.settings.audience)
      .setSubject(claims.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + claims.ttlSeconds)
      .setJti(randomUUID())
      .sign(await this.key);
  }
}

/**
 * The token a service presents when it calls another service (or the national node): signed with
 * the node's service key, role `service`, subject = the service's name, for one audience — the
 * node's own unless the caller names another (the national node's), so a token that leaves the node
 * is worth nothing inside it. Reused until a minute before it expires.
 */
export class ServiceTokenSource {
  private readonly cached = new Map<string, { token: string; refreshAt: number }>();
  private readonly issuer: TokenIssuer | undefined;

  constructor(
    private readonly serviceName: string,
    signingKey: SigningKey | undefined,
    private readonly settings: TokenSettings,
    private readonly ttlSeconds = 300,
  ) {
    this.issuer = signingKey ? new TokenIssuer(signingKey, settings) : undefined;
  }

  async token(audience: string = this.settings.audience): Promise<string> {
    if (!this.issuer)
      throw new Error(
        'AUTH_SERVICE_SIGNING_KEY is not configured: this service cannot call others',
      );
    const now = Date.now();
    const cached = this.cached.get(audience);
    if (cached && now < cached.refreshAt) return cached.token;
    const token = await this.issuer.issue({
      subject: this.serviceName,
      roles: ['service'],
      ttlSeconds: this.ttlSeconds,
      audience,
    });
    this.cached.set(audience, {
      token,
      refreshAt: now + Math.max(this.ttlSeconds - 60, this.ttlSeconds / 2) * 1000,
    });
    return token;
  }
}
