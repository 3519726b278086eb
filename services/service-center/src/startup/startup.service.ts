import { randomUUID } from 'node:crypto';
import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { fingerprintOf, hashApiKey, parseApiKey } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { ApiKeyIssuer } from '../api-keys/api-key-issuer';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import type { ServiceCenterConfig } from '../config';
import { ParticipantsRepository } from '../participants/participants.repository';
import { QualificationsService } from '../qualifications/qualifications.service';
import { ServiceCenterTokenVerifier } from '../tokens/service-center-token.verifier';
import { SigningKeysService } from '../tokens/signing-keys.service';
import { TokenExchangeService } from '../tokens/token-exchange.service';

/** The idempotency key under which the installation creates its bootstrap operator, once. */
export const BOOTSTRAP_OPERATOR_KEY = {
  scope: 'install',
  requestId: 'bootstrap-operator',
  operation: 'BootstrapOperator',
  fingerprint: fingerprintOf({ operator: 'bootstrap' }),
} as const;

/**
 * Start-up duties (signing key, bootstrap operator) and the periodic sweep. Every step is safe with
 * several replicas starting at once: unique constraints and advisory locks decide, not timing.
 */
@Injectable()
export class StartupService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StartupService.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    @InjectConfig() private readonly config: ServiceCenterConfig,
    private readonly uow: UnitOfWork,
    private readonly signingKeys: SigningKeysService,
    private readonly participants: ParticipantsRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly keyIssuer: ApiKeyIssuer,
    private readonly qualifications: QualificationsService,
    private readonly tokens: TokenExchangeService,
    private readonly verifier: ServiceCenterTokenVerifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.signingKeys.ensureActiveKey();
    // A first key created just now signs at once: this replica verifies with it from the start.
    await this.verifier.reload();
    await this.ensureBootstrapOperator();
    if (this.config.QUALIFICATION_SWEEP_INTERVAL_MS > 0) {
      this.timer = setInterval(
        () => void this.sweep(),
        this.config.QUALIFICATION_SWEEP_INTERVAL_MS,
      );
      this.timer.unref();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** One sweep at a time per replica; replicas among themselves are kept apart by SKIP LOCKED. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const expired = await this.qualifications.sweepExpired();
        if (expired > 0) this.logger.log(`recorded ${expired} qualification expiries`);
        await this.tokens.pruneAttempts();
      } catch (error) {
        this.logger.error({ err: error }, 'periodic sweep failed');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private async ensureBootstrapOperator(): Promise<void> {
    const key = this.config.OPERATOR_BOOTSTRAP_KEY;
    if (!key) {
      this.logger.warn('OPERATOR_BOOTSTRAP_KEY is not set: no bootstrap operator is ensured');
      return;
    }
    const prefix = parseApiKey(key)?.prefix;
    if (!prefix) throw new Error('OPERATOR_BOOTSTRAP_KEY is not a well-formed API key');
    const outcome = await this.uow.idempotentInsert(BOOTSTRAP_OPERATOR_KEY, async (tx) => {
      const now = new Date();
      const id = randomUUID();
      await this.participants.insert(tx, {
        id,
        kind: ParticipantKind.PARTICIPANT_KIND_OPERATOR,
        userCategory: 0,
        name: this.config.OPERATOR_BOOTSTRAP_NAME,
        state: ParticipantState.PARTICIPANT_STATE_CERTIFIED,
        version: 1,
        organization: null,
        individual: null,
        createdBy: 'install',
        createdAt: now,
        updatedAt: now,
      });
      return { result: id, objectId: id };
    });
    if (outcome.created) this.logger.log('created the bootstrap operator');
    const operatorId = outcome.created ? outcome.result : outcome.objectId;
    const replaced = await this.uow.run(async (tx) => {
      // Replicas starting together take turns; the one that adds a changed key revokes the rest.
      await this.participants.lock(tx, operatorId);
      const now = new Date();
      const added = await this.apiKeys.insertIfPrefixAbsent(tx, {
        id: randomUUID(),
        participantId: operatorId,
        prefix,
        secretHash: hashApiKey(key),
        state: ApiKeyState.API_KEY_STATE_ACTIVE,
        version: 1,
        createdBy: 'install',
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
        revokeReason: null,
      });
      if (!added) return 0;
      // A new OPERATOR_BOOTSTRAP_KEY replaces the operator's credential: whatever it held before
      // (the previous bootstrap key, keys rotated from it) stops working now.
      const others = (await this.apiKeys.lockActive(tx, operatorId)).filter(
        (k) => k.prefix !== prefix,
      );
      for (const other of others)
        await this.keyIssuer.revoke(tx, other, 'install', 'OPERATOR_BOOTSTRAP_KEY replaced', now);
      return others.length;
    });
    if (replaced > 0)
      this.logger.warn(
        `OPERATOR_BOOTSTRAP_KEY changed: revoked the bootstrap operator's ${replaced} previous key(s)`,
      );
    const stored = await this.apiKeys.findByPrefix(prefix);
    if (!stored || stored.participantId !== operatorId || stored.secretHash !== hashApiKey(key)) {
      throw new Error(
        'OPERATOR_BOOTSTRAP_KEY collides with another key of the same prefix; choose another key',
      );
    }
    if (stored.state !== (ApiKeyState.API_KEY_STATE_ACTIVE as number)) {
      this.logger.warn(
        'OPERATOR_BOOTSTRAP_KEY was revoked; it stays revoked until a new key is configured',
      );
    }
  }
}
