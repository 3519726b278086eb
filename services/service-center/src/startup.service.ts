import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  ApiKeyState,
  ParticipantKind,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { hashApiKey, parseApiKey } from '@cinode/common';
import { ApiKeysRepository } from './api-keys/api-keys.repository';
import { SERVICE_CENTER_CONFIG, type ServiceCenterConfig } from './config';
import { ParticipantsRepository } from './participants/participants.repository';
import { QualificationsService } from './qualifications/qualifications.service';
import { SigningKeysService } from './tokens/signing-keys.service';
import { TokenExchangeService } from './tokens/token-exchange.service';

export const BOOTSTRAP_OPERATOR_REQUEST_ID = 'install:bootstrap-operator';

/**
 * Start-up duties (signing key, bootstrap operator) and the periodic sweep. Every step is safe with
 * several replicas starting at once: unique constraints and advisory locks decide, not timing.
 */
@Injectable()
export class StartupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StartupService.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    @Inject(SERVICE_CENTER_CONFIG) private readonly config: ServiceCenterConfig,
    private readonly signingKeys: SigningKeysService,
    private readonly participants: ParticipantsRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly qualifications: QualificationsService,
    private readonly tokens: TokenExchangeService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.signingKeys.ensureActiveKey();
    await this.ensureBootstrapOperator();
    if (this.config.QUALIFICATION_SWEEP_INTERVAL_MS > 0) {
      this.timer = setInterval(
        () => void this.sweep(),
        this.config.QUALIFICATION_SWEEP_INTERVAL_MS,
      );
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
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
    const now = new Date();
    await this.participants.transaction(async (tx) => {
      const inserted = await tx.insertIfAbsent({
        id: randomUUID(),
        kind: ParticipantKind.PARTICIPANT_KIND_OPERATOR,
        userCategory: 0,
        name: this.config.OPERATOR_BOOTSTRAP_NAME,
        state: ParticipantState.PARTICIPANT_STATE_CERTIFIED,
        organization: null,
        individual: null,
        requestId: BOOTSTRAP_OPERATOR_REQUEST_ID,
        createdBy: 'install',
        createdAt: now,
        updatedAt: now,
      });
      if (inserted) this.logger.log('created the bootstrap operator');
    });
    const operator = await this.participants.findByRequestId(BOOTSTRAP_OPERATOR_REQUEST_ID);
    if (!operator) throw new Error('the bootstrap operator cannot be read after creating it');
    await this.apiKeys.insertIfPrefixAbsent({
      id: randomUUID(),
      participantId: operator.id,
      prefix,
      secretHash: hashApiKey(key),
      state: ApiKeyState.API_KEY_STATE_ACTIVE,
      createdBy: 'install',
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
      revokeReason: null,
      rotationRequestId: null,
    });
    const stored = await this.apiKeys.findByPrefix(prefix);
    if (!stored || stored.participantId !== operator.id || stored.secretHash !== hashApiKey(key)) {
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
