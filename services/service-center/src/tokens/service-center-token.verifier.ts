import { Injectable } from '@nestjs/common';
import { TokenVerifier, parseJwks, type Caller } from '@cinode/auth';
import type { JSONWebKeySet, JWK } from 'jose';
import { InjectConfig } from '@cinode/kit';
import type { ServiceCenterConfig } from '../config';
import { SigningKeysRepository } from './signing-keys.repository';

/** Re-reading the keys on an unknown kid is bounded to once per this interval. */
const MIN_REFRESH_MS = 1_000;

/**
 * The service center verifies the tokens it issues itself, so besides the static keys from
 * AUTH_JWT_PUBLIC_KEYS (test and service keys) it trusts its own active and published signing keys,
 * read from its database: periodically, and at once (rate-limited) when a token fails, so a rotation
 * made by another replica is seen without a restart.
 */
@Injectable()
export class ServiceCenterTokenVerifier extends TokenVerifier {
  private readonly staticKeys: JWK[];
  private current: TokenVerifier;
  private loadedAt = 0;

  constructor(
    private readonly signingKeys: SigningKeysRepository,
    @InjectConfig() private readonly config: ServiceCenterConfig,
  ) {
    const jwks = parseJwks(config.AUTH_JWT_PUBLIC_KEYS);
    super(jwks, verificationSettingsOf(config));
    this.staticKeys = jwks.keys;
    this.current = new TokenVerifier(jwks, this.tokenSettings());
  }

  override async verify(token: string): Promise<Caller> {
    if (Date.now() - this.loadedAt > this.config.JWKS_CACHE_SECONDS * 1000) await this.reload();
    try {
      return await this.current.verify(token);
    } catch (error) {
      if (Date.now() - this.loadedAt < MIN_REFRESH_MS) throw error;
      await this.reload();
      return this.current.verify(token);
    }
  }

  /** Called after a local rotation, and by verify when its keys may be stale. */
  async reload(): Promise<void> {
    const own = (await this.signingKeys.listVerificationKeys(new Date())).map((k) => k.publicJwk);
    const jwks: JSONWebKeySet = { keys: [...this.staticKeys, ...own] };
    this.current = new TokenVerifier(jwks, this.tokenSettings());
    this.loadedAt = Date.now();
  }

  private tokenSettings() {
    return verificationSettingsOf(this.config);
  }
}

function verificationSettingsOf(config: ServiceCenterConfig) {
  return {
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
    maxLifetimeSeconds: config.AUTH_JWT_MAX_TTL_SECONDS,
    clockToleranceSeconds: config.AUTH_JWT_CLOCK_TOLERANCE_SECONDS,
  };
}
