import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { KeyRing, TokenVerifier, parseJwks, type RemoteKeySource } from '@cinode/auth';
import type { JWK } from 'jose';
import { InjectConfig } from '@cinode/kit';
import type { ServiceCenterConfig } from '../config';
import { SigningKeysRepository } from './signing-keys.repository';

/** This service's own signing keys, read from its database as the KeyRing's remote source. */
class OwnSigningKeys implements RemoteKeySource {
  constructor(
    private readonly signingKeys: SigningKeysRepository,
    private readonly cacheForMs: number,
  ) {}

  async fetch(): Promise<{ keys: JWK[]; cacheForMs: number }> {
    const keys = await this.signingKeys.listVerificationKeys(new Date());
    return { keys: keys.map((k) => k.publicJwk), cacheForMs: this.cacheForMs };
  }
}

/**
 * The service center verifies the tokens it issues itself, so besides the static keys from
 * AUTH_JWT_PUBLIC_KEYS (test and service keys) it trusts its own active and published signing keys,
 * read from its database. Like every service's KeyRing it never makes a call wait for that read: it
 * re-reads every JWKS_CACHE_SECONDS (well within the time a new key is published before it signs,
 * so a rotation on another replica is known in time), once at most when an unknown key id shows up,
 * and stops trusting them after AUTH_JWKS_MAX_STALE_SECONDS without a successful read.
 */
@Injectable()
export class ServiceCenterTokenVerifier
  extends TokenVerifier
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly keyRing: KeyRing;

  constructor(signingKeys: SigningKeysRepository, @InjectConfig() config: ServiceCenterConfig) {
    const ring = new KeyRing(parseJwks(config.AUTH_JWT_PUBLIC_KEYS).keys, {
      remote: new OwnSigningKeys(signingKeys, config.JWKS_CACHE_SECONDS * 1000),
      maxStaleMs: config.AUTH_JWKS_MAX_STALE_SECONDS * 1000,
    });
    super(ring, {
      issuer: config.AUTH_JWT_ISSUER,
      audience: config.AUTH_JWT_AUDIENCE,
      maxLifetimeSeconds: config.AUTH_JWT_MAX_TTL_SECONDS,
      clockToleranceSeconds: config.AUTH_JWT_CLOCK_TOLERANCE_SECONDS,
    });
    this.keyRing = ring;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.keyRing.start();
  }

  onApplicationShutdown(): void {
    this.keyRing.stop();
  }

  /** Re-reads the keys now (after this replica created or rotated one). */
  reload(): Promise<void> {
    return this.keyRing.refresh();
  }
}
