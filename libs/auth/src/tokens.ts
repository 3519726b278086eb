import { randomUUID } from 'node:crypto';
import { UnauthenticatedError } from '@cinode/common';
import {
  SignJWT,
  createLocalJWKSet,
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
import { isRole, type Caller, type Role } from './roles';

const ALGORITHM = 'EdDSA';

export interface TokenSettings {
  issuer: string;
  audience: string;
}

/** Parses AUTH_JWT_PUBLIC_KEYS: a JWKS document, or a single JWK. */
export function parseJwks(json: string): JSONWebKeySet {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as JSONWebKeySet).keys)) {
    return parsed as JSONWebKeySet;
  }
  if (typeof parsed === 'object' && parsed !== null && 'kty' in parsed) return { keys: [parsed as JWK] };
  throw new Error('AUTH_JWT_PUBLIC_KEYS must be a JWKS ({"keys":[...]}) or a single JWK');
}

/**
 * Verifies caller tokens locally against the published Ed25519 keys. Several keys may be active at
 * once, selected by `kid`, so signing keys rotate without downtime.
 */
export class TokenVerifier {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;

  constructor(
    jwks: JSONWebKeySet,
    private readonly settings: TokenSettings,
  ) {
    this.keySet = createLocalJWKSet(jwks);
  }

  async verify(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: [ALGORITHM],
        requiredClaims: ['sub', 'exp', 'jti'],
      }));
    } catch (error) {
      const reason = error instanceof joseErrors.JWTExpired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
      throw new UnauthenticatedError(reason, reason === 'TOKEN_EXPIRED' ? 'token expired' : 'invalid token');
    }
    const roles: Role[] = Array.isArray(payload.roles) ? payload.roles.filter(isRole) : [];
    if (roles.length === 0) throw new UnauthenticatedError('TOKEN_INVALID', 'token carries no known role');
    return {
      subject: String(payload.sub),
      roles,
      tenant: typeof payload.tenant === 'string' ? payload.tenant : String(payload.sub),
      tokenId: String(payload.jti),
      expiresAt: new Date((payload.exp ?? 0) * 1000),
    };
  }
}

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** A new Ed25519 key pair as JWKs. */
export async function generateSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
  return { kid, privateJwk, publicJwk };
}

export interface TokenClaims {
  subject: string;
  roles: Role[];
  tenant?: string;
  ttlSeconds: number;
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
      .setAudience(this.settings.audience)
      .setSubject(claims.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + claims.ttlSeconds)
      .setJti(randomUUID())
      .sign(await this.key);
  }
}
