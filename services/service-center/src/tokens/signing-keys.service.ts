import { Injectable, Logger } from '@nestjs/common';
import { TokenIssuer, generateSigningKey, type Caller } from '@cinode/auth';
import { FieldChecks, fingerprintOf } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { JWK } from 'jose';
import { requestScopeOf } from '../access';
import { encryptionKeyOf, type ServiceCenterConfig } from '../config';
import { checkRequestId } from '../request-checks';
import { decryptSecret, encryptSecret } from './key-encryption';
import type { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

/** Tokens a published key signed may outlive its demotion by the TTL; this covers clock skew on top. */
const CLOCK_SKEW_MS = 60_000;

/** Public JWK fields that go into the JWKS; everything else (notably "d") stays inside. */
function publicPart(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: jwk.alg, use: jwk.use };
}

@Injectable()
export class SigningKeysService {
  private readonly logger = new Logger(SigningKeysService.name);
  private readonly encryptionKey: Buffer;
  private readonly issuers = new Map<string, TokenIssuer>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: SigningKeysRepository,
    @InjectConfig() private readonly config: ServiceCenterConfig,
  ) {
    const { key, development } = encryptionKeyOf(config);
    this.encryptionKey = key;
    if (development)
      this.logger.warn(
        'SIGNING_KEY_ENCRYPTION_KEY is not set: signing keys are encrypted with the public development key',
      );
  }

  /** Creates the first active key unless one exists; safe when replicas start together. */
  async ensureActiveKey(): Promise<string> {
    return this.uow.run(async (tx) => {
      await this.keys.lockExclusive(tx);
      const active = await this.keys.findActive(tx);
      if (active) return active.kid;
      const created = await this.newKey();
      await this.keys.insert(tx, created);
      this.logger.log(`created the first signing key ${created.kid}`);
      return created.kid;
    });
  }

  /** The issuer of the currently active key. Read per call, so a rotation elsewhere takes effect here. */
  async activeIssuer(): Promise<TokenIssuer> {
    const active = (await this.keys.findActive()) ?? (await this.reloadAfterEnsure());
    let issuer = this.issuers.get(active.kid);
    if (!issuer) {
      const privateJwk = JSON.parse(
        decryptSecret(active.privateJwkEncrypted, this.encryptionKey, active.kid),
      ) as JWK;
      issuer = new TokenIssuer(
        { kid: active.kid, privateJwk, publicJwk: active.publicJwk },
        { issuer: this.config.AUTH_JWT_ISSUER, audience: this.config.AUTH_JWT_AUDIENCE },
      );
      this.issuers.set(active.kid, issuer);
    }
    return issuer;
  }

  /** The public halves of the active and still-published keys. */
  async verificationKeys(now: Date = new Date()): Promise<JWK[]> {
    return (await this.keys.listVerificationKeys(now)).map((k) => k.publicJwk);
  }

  /**
   * Makes a new key active; the old one stays in the JWKS until its tokens have expired. A retry
   * with the caller's request id rotates nothing more and describes the keys as they are.
   */
  async rotate(
    requestId: string,
    caller: Caller,
  ): Promise<{ activeKid: string; publishedKids: string[] }> {
    const checks = new FieldChecks();
    checkRequestId(checks, requestId);
    checks.throwIfAny();
    const outcome = await this.uow.idempotentInsert(
      {
        scope: requestScopeOf(caller),
        requestId,
        operation: 'RotateSigningKey',
        fingerprint: fingerprintOf({}),
      },
      async (tx) => {
        await this.keys.lockExclusive(tx);
        const now = new Date();
        const active = await this.keys.findActive(tx);
        if (active) {
          active.state = 'published';
          active.demotedAt = now;
          active.retireAfter = new Date(
            now.getTime() + this.config.TOKEN_TTL_SECONDS * 1000 + CLOCK_SKEW_MS,
          );
          await this.keys.save(tx, active);
        }
        const created = await this.newKey();
        await this.keys.insert(tx, created);
        await this.keys.retireExpired(tx, now);
        return { result: await this.describe(now, tx), objectId: created.kid };
      },
    );
    return outcome.created ? outcome.result : this.describe(new Date());
  }

  private async describe(
    now: Date,
    tx?: Tx,
  ): Promise<{ activeKid: string; publishedKids: string[] }> {
    const keys = await this.keys.listVerificationKeys(now, tx);
    return {
      activeKid: keys.find((k) => k.state === 'active')?.kid ?? '',
      publishedKids: keys.filter((k) => k.state === 'published').map((k) => k.kid),
    };
  }

  private async reloadAfterEnsure(): Promise<SigningKeyEntity> {
    await this.ensureActiveKey();
    const active = await this.keys.findActive();
    if (!active) throw new Error('no active signing key after ensuring one');
    return active;
  }

  private async newKey(): Promise<SigningKeyEntity> {
    const generated = await generateSigningKey();
    return {
      kid: generated.kid,
      state: 'active',
      publicJwk: publicPart(generated.publicJwk),
      privateJwkEncrypted: encryptSecret(
        JSON.stringify(generated.privateJwk),
        this.encryptionKey,
        generated.kid,
      ),
      createdAt: new Date(),
      demotedAt: null,
      retireAfter: null,
    };
  }
}
