import { TokenIssuer, generateSigningKey, type SigningKey } from '@cinode/auth';
import { expectDomainError } from '@cinode/testing';
import type { ServiceCenterConfig } from '../config';
import type { SigningKeyEntity } from './signing-key.entity';
import type { SigningKeysRepository } from './signing-keys.repository';
import { ServiceCenterTokenVerifier } from './service-center-token.verifier';

const SETTINGS = { issuer: 'cinode', audience: 'cinode' };

/** The signing-key table as the verifier reads it; after the first read, reads can be held. */
class FakeSigningKeys {
  keys: SigningKeyEntity[] = [];
  reads = 0;
  holding = false;
  private held: (() => void)[] = [];

  listVerificationKeys(): Promise<SigningKeyEntity[]> {
    this.reads += 1;
    if (!this.holding) return Promise.resolve(this.keys);
    return new Promise((resolve) => this.held.push(() => resolve(this.keys)));
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.held.splice(0)) resolve();
  }
}

function row(key: SigningKey): SigningKeyEntity {
  return {
    kid: key.kid,
    state: 'active',
    publicJwk: key.publicJwk,
    privateJwkEncrypted: '',
    createdAt: new Date(),
    activatesAt: null,
    demotedAt: null,
    retireAfter: null,
  };
}

describe(ServiceCenterTokenVerifier.name, () => {
  it('never holds a call up on reading its keys, and reads them once for any number of unknown key ids', async () => {
    const own = await generateSigningKey('own-1');
    const stranger = await generateSigningKey('stranger');
    const table = new FakeSigningKeys();
    table.keys = [row(own)];
    const verifier = new ServiceCenterTokenVerifier(
      table as unknown as SigningKeysRepository,
      {
        AUTH_JWT_PUBLIC_KEYS: '{"keys":[]}',
        AUTH_JWT_ISSUER: SETTINGS.issuer,
        AUTH_JWT_AUDIENCE: SETTINGS.audience,
        AUTH_JWT_MAX_TTL_SECONDS: 3600,
        AUTH_JWT_CLOCK_TOLERANCE_SECONDS: 10,
        AUTH_JWKS_MAX_STALE_SECONDS: 600,
        JWKS_CACHE_SECONDS: 60,
      } as ServiceCenterConfig,
    );
    await verifier.onApplicationBootstrap();
    try {
      expect(table.reads).toBe(1);
      const claims = { subject: 'p-1', roles: ['provider' as const], ttlSeconds: 60 };
      const genuine = await new TokenIssuer(own, SETTINGS).issue(claims);
      const forged = await new TokenIssuer(stranger, SETTINGS).issue(claims);

      // A re-read of the keys hangs on a slow database: calls do not wait for it, failing tokens
      // pile no reads on it, and genuine ones are verified with the keys already read.
      table.holding = true;
      const slowRead = verifier.reload();
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 3 === 0
            ? verifier.verify(genuine).then((caller) => caller.subject)
            : expectDomainError(verifier.verify(forged)).then((error) => error.reason),
        ),
      );
      expect(outcomes.filter((o) => o === 'p-1')).toHaveLength(10);
      expect(outcomes.filter((o) => o === 'TOKEN_INVALID')).toHaveLength(20);
      expect(table.reads).toBe(2);
      table.release();
      await slowRead;
    } finally {
      table.release();
      verifier.onApplicationShutdown();
    }
  }, 5_000);
});
