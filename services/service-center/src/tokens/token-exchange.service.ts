import { Injectable } from '@nestjs/common';
import { ResourceExhaustedError, UnauthenticatedError } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import {
  ApiKeyState,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import type { Role } from '@cinode/auth';
import { apiKeyMatches, parseApiKey } from '@cinode/common';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import type { ServiceCenterConfig } from '../config';
import { ErrorReason } from '../errors';
import { rolesOfKind } from '../participants/participant-roles';
import { ParticipantsRepository } from '../participants/participants.repository';
import { SigningKeysService } from './signing-keys.service';
import {
  TokenAttemptsRepository,
  type AttemptCount,
  type AttemptLimit,
} from './token-attempts.repository';

export interface IssuedToken {
  accessToken: string;
  expiresAt: Date;
  roles: Role[];
  participantId: string;
}

@Injectable()
export class TokenExchangeService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: ApiKeysRepository,
    private readonly participants: ParticipantsRepository,
    private readonly attempts: TokenAttemptsRepository,
    private readonly signingKeys: SigningKeysService,
    @InjectConfig() private readonly config: ServiceCenterConfig,
  ) {}

  /**
   * Exchanges an API key for a token. Every attempt is counted, before any hash is compared,
   * against the caller's address and against the key's prefix from that address, atomically (no
   * more attempts than a limit allows get through, however many arrive at once); a genuine key's
   * attempt is taken back. Counting a prefix per address means hammering a key's public prefix
   * locks out the hammering address, never the key's holder calling from elsewhere. Every failure
   * answers the same UNAUTHENTICATED, so a guesser learns nothing about which part was wrong. A
   * not-certified participant is told so: its key is genuine, and it needs to know.
   */
  async issue(apiKey: string, clientAddress: string): Promise<IssuedToken> {
    const now = new Date();
    const prefix = parseApiKey(apiKey)?.prefix;
    const limits: AttemptLimit[] = [
      {
        scope: 'address',
        subject: clientAddress,
        limit: this.config.TOKEN_FAILED_ADDRESS_LIMIT,
      },
    ];
    if (prefix)
      limits.push({
        scope: 'prefix',
        subject: `${prefix}@${clientAddress}`,
        limit: this.config.TOKEN_FAILED_ATTEMPT_LIMIT,
      });
    const windowMs = this.config.TOKEN_FAILED_ATTEMPT_WINDOW_SECONDS * 1000;
    const reservation = await this.attempts.reserve(
      limits,
      new Date(now.getTime() - windowMs),
      now,
    );
    if ('refused' in reservation) throw tooManyFailures(reservation.refused, now, windowMs);

    let failed = false;
    try {
      const key = prefix ? await this.keys.findByPrefix(prefix) : undefined;
      if (
        !key ||
        !apiKeyMatches(apiKey, key.secretHash) ||
        key.state !== (ApiKeyState.API_KEY_STATE_ACTIVE as number)
      ) {
        // The attempts stay recorded: they are the failure.
        failed = true;
        throw new UnauthenticatedError(
          ErrorReason.API_KEY_INVALID,
          'the API key is unknown, revoked or malformed',
        );
      }
      return await this.tokenFor(key.id, key.participantId, now);
    } finally {
      // A genuine key (its participant certified or not) is no failed attempt.
      if (!failed) await this.attempts.release(reservation.reserved);
    }
  }

  private async tokenFor(keyId: string, participantId: string, now: Date): Promise<IssuedToken> {
    const participant = await this.participants.findById(participantId);
    if (
      !participant ||
      participant.state !== (ParticipantState.PARTICIPANT_STATE_CERTIFIED as number)
    ) {
      throw new UnauthenticatedError(
        ErrorReason.PARTICIPANT_NOT_CERTIFIED,
        'the participant is not certified',
        {
          metadata: { current_state: ParticipantState[participant?.state ?? 0] ?? 'UNKNOWN' },
        },
      );
    }
    const roles = rolesOfKind(participant.kind);
    const issuer = await this.signingKeys.activeIssuer();
    const accessToken = await issuer.issue({
      subject: participant.id,
      roles,
      tenant: participant.id,
      ttlSeconds: this.config.TOKEN_TTL_SECONDS,
    });
    await this.uow.run(async (tx) => {
      // The call names no participant; its audit record is about the one the key belongs to.
      tx.objectId = participant.id;
      await this.keys.touchLastUsed(tx, keyId, now);
    });
    return {
      accessToken,
      expiresAt: new Date(
        Math.floor(now.getTime() / 1000) * 1000 + this.config.TOKEN_TTL_SECONDS * 1000,
      ),
      roles,
      participantId: participant.id,
    };
  }

  /** Drops failure rows that no window can count any more. */
  async pruneAttempts(now: Date = new Date()): Promise<void> {
    await this.attempts.deleteOlderThan(
      new Date(now.getTime() - this.config.TOKEN_FAILED_ATTEMPT_WINDOW_SECONDS * 1000),
    );
  }
}

function tooManyFailures(count: AttemptCount, now: Date, windowMs: number): ResourceExhaustedError {
  const freesAt = (count.oldest ?? now).getTime() + windowMs;
  return new ResourceExhaustedError(
    ErrorReason.TOO_MANY_FAILED_ATTEMPTS,
    `too many failed attempts for this ${count.scope === 'prefix' ? 'key' : 'address'}`,
    {
      retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now.getTime()) / 1000)),
      metadata: { scope: count.scope },
    },
  );
}
