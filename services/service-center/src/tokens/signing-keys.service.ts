import { Injectable, Logger } from '@nestjs/common';
import { TokenIssuer, generateSigningKey, type Caller } from '@cinode/auth';
import { FieldChecks, fingerprintOf } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { JWK } from 'jose';
import { requestScopeOf } from '../access';
import { encryptionKeyOf, type ServiceCenterConfig } from '../config';
import { checkRequestId } from '../request-checks';
import { decryptSecret, encryptSecret } from '@cinode/common';
import type { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

/** Tokens a published key signed may outlive its demotion by the TTL and the clock tolerance. */
const RETIRE_MARGIN_MS = 60_000;

export interface RotationResult {
  /** The new key: in the JWKS at once, signing from `signsFrom` on. */
  activeKid: string;
  /** The other keys in the JWKS (the one signing until `signsFrom` among them). */
  publishedKids: string[];
  signsFrom: Date;
}

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

  /**
   * Creates the first active key unless one exists; safe when replicas start together. A key that
   * exists must open with SIGNING_KEY_ENCRYPTION_KEY: started with another key than the one that
   * sealed it, the service refuses to start (saying so) instead of failing every token exchange.
   */
  async ensureActiveKey(): Promise<string> {
    return this.uow.run(async (tx) => {
      await this.keys.lockExclusive(tx);
      const active = await this.keys.findActive(tx);
      if (active) {
        try {
          decryptSecret(active.privateJwkEncrypted, this.encryptionKey, active.kid);
        } catch {
          throw new Error(
            `SIGNING_KEY_ENCRYPTION_KEY does not open the signing key ${active.kid} stored in the database: the service center was started with another key than the one that sealed it. Start it with that key (the chart keeps it in the <release>-service-center secret).`,
          );
        }
        return active.kid;
      }
      const created = await this.newKey();
      await this.keys.insert(tx, created);
      this.logger.log(`created the first signing key ${created.kid}`);
      return created.kid;
    });
  }

  /**
   * How long a new key is published before it signs: two cache periods of the JWKS, so every
   * verifier — each refreshing once per period — has fetched it before the first token it signs.
   */
  publishLeadMs(): number {
    return 2 * this.config.JWKS_CACHE_SECONDS * 1000;
  }

  /**
   * The issuer of the key signing now. Read per call, so a rotation elsewhere takes effect here,
   * and a rotated-in key takes over at its activates_at without anything having to run then.
   */
  async activeIssuer(): Promise<TokenIssuer> {
    const active = (await this.keys.findSigner(new Date())) ?? (await this.reloadAfterEnsure());
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

  /** The public halves of the active (signing, or about to) and still-published keys. */
  async verificationKeys(now: Date = new Date()): Promise<JWK[]> {
    return (await this.keys.listVerificationKeys(now)).map((k) => k.publicJwk);
  }

  /**
   * Publishes a new key at once and makes it sign from `publishLeadMs()` later; the key signing now
   * signs until then and stays in the JWKS until its tokens have expired. A key a previous rotation
   * published but that has not signed yet is dropped. A retry with the caller's request id rotates
   * nothing more and describes the key that rotation created.
   */
  async rotate(requestId: string, caller: Caller): Promise<RotationResult> {
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
        const signsFrom = new Date(now.getTime() + this.publishLeadMs());
        const active = await this.keys.findActive(tx);
        if (active?.activatesAt && active.activatesAt > now) {
          // Published by an earlier rotation, never signed: dropped. The key signing now keeps
          // signing until the new one takes over.
          Object.assign(active, { state: 'retired', demotedAt: now, retireAfter: now });
          await this.keys.save(tx, active);
          const signing = await this.keys.findSigner(now, tx);
          if (signing) await this.demote(tx, signing, signsFrom);
        } else if (active) {
          await this.demote(tx, active, signsFrom);
        }
        const created = await this.newKey(signsFrom);
        await this.keys.insert(tx, created);
        await this.keys.retireExpired(tx, now);
        return { result: await this.describe(created.kid, now, tx), objectId: created.kid };
      },
    );
    return outcome.created ? outcome.result : this.describe(outcome.objectId, new Date());
  }

  /** The key stops signing at `until` and leaves the JWKS once every token it signed has expired. */
  private async demote(tx: Tx, key: SigningKeyEntity, until: Date): Promise<void> {
    key.state = 'published';
    key.demotedAt = until;
    key.retireAfter = new Date(
      until.getTime() +
        (this.config.TOKEN_TTL_SECONDS + this.config.AUTH_JWT_CLOCK_TOLERANCE_SECONDS) * 1000 +
        RETIRE_MARGIN_MS,
    );
    await this.keys.save(tx, key);
  }

  private async describe(kid: string, now: Date, tx?: Tx): Promise<RotationResult> {
    const key = await this.keys.findByKid(kid, tx);
    const keys = await this.keys.listVerificationKeys(now, tx);
    return {
      activeKid: kid,
      publishedKids: keys.filter((k) => k.kid !== kid).map((k) => k.kid),
      signsFrom: key?.activatesAt ?? key?.createdAt ?? now,
    };
  }

  private async reloadAfterEnsure(): Promise<SigningKeyEntity> {
    await this.ensureActiveKey();
    // Only an inconsistent table leaves no signer besides a key not due yet: sign rather than fail.
    const active = (await this.keys.findSigner(new Date())) ?? (await this.keys.findActive());
    if (!active) throw new Error('no active signing key after ensuring one');
    return active;
  }

  private async newKey(activatesAt: Date | null = null): Promise<SigningKeyEntity> {
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
      activatesAt,
      demotedAt: null,
      retireAfter: null,
    };
  }
}
