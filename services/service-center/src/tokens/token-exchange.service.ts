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
import { TokenAttemptsRepository, type AttemptScope } from './token-attempts.repository';

export interface IssuedToken {
  accessToken: string;
  expiresAt: Date;
  roles: Role[];
  participantId: string;
}

/** "ipv4:10.0.0.1:5123" or "ipv6:[::1]:5123" -> the address without the port. */
export function addressOfPeer(peer: string): string {
  const bare = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const v6 = /^\[([^\]]+)\]/.exec(bare);
  if (v6) return v6[1];
  const lastColon = bare.lastIndexOf(':');
  return (
    (lastColon > 0 && bare.indexOf(':') === lastColon ? bare.slice(0, lastColon) : bare).slice(
      0,
      128,
    ) || 'unknown'
  );
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
   * Exchanges an API key for a token. The failure counters are checked before any hash is compared,
   * and every failure answers the same UNAUTHENTICATED, so a guesser learns nothing about which part
   * was wrong. A not-certified participant is told so: its key is genuine, and it needs to know.
   */
  async issue(apiKey: string, peerAddress: string): Promise<IssuedToken> {
    const now = new Date();
    const prefix = parseApiKey(apiKey)?.prefix;
    const subjects: { scope: AttemptScope; subject: string }[] = [
      { scope: 'address', subject: peerAddress },
    ];
    if (prefix) subjects.push({ scope: 'prefix', subject: prefix });
    await this.refuseIfOverLimit(subjects, now);

    const key = prefix ? await this.keys.findByPrefix(prefix) : undefined;
    if (
      !key ||
      !apiKeyMatches(apiKey, key.secretHash) ||
      key.state !== (ApiKeyState.API_KEY_STATE_ACTIVE as number)
    ) {
      await this.attempts.record(subjects, now);
      throw new UnauthenticatedError(
        ErrorReason.API_KEY_INVALID,
        'the API key is unknown, revoked or malformed',
      );
    }
    const participant = await this.participants.findById(key.participantId);
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
      await this.keys.touchLastUsed(tx, key.id, now);
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

  private async refuseIfOverLimit(
    subjects: { scope: AttemptScope; subject: string }[],
    now: Date,
  ): Promise<void> {
    const windowMs = this.config.TOKEN_FAILED_ATTEMPT_WINDOW_SECONDS * 1000;
    const since = new Date(now.getTime() - windowMs);
    for (const { scope, subject } of subjects) {
      const count = await this.attempts.count(scope, subject, since);
      const limit =
        scope === 'prefix'
          ? this.config.TOKEN_FAILED_ATTEMPT_LIMIT
          : this.config.TOKEN_FAILED_ADDRESS_LIMIT;
      if (count.failures >= limit) {
        const freesAt = (count.oldest ?? now).getTime() + windowMs;
        throw new ResourceExhaustedError(
          ErrorReason.TOO_MANY_FAILED_ATTEMPTS,
          `too many failed attempts for this ${scope === 'prefix' ? 'key' : 'address'}`,
          {
            retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now.getTime()) / 1000)),
            metadata: { scope },
          },
        );
      }
    }
  }

  /** Drops failure rows that no window can count any more. */
  async pruneAttempts(now: Date = new Date()): Promise<void> {
    await this.attempts.deleteOlderThan(
      new Date(now.getTime() - this.config.TOKEN_FAILED_ATTEMPT_WINDOW_SECONDS * 1000),
    );
  }
}
