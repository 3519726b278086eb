import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { generateApiKey, truncateChars } from '@cinode/common';
import { ApiKeyIssued, ApiKeyRevoked, eventOf } from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import { ApiKeyState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import type { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';

/** Issuing and revoking keys in the caller's transaction, each announced as an event. */
@Injectable()
export class ApiKeyIssuer {
  constructor(private readonly keys: ApiKeysRepository) {}

  /** A new active key; its full text exists only in the returned value. */
  async issue(
    tx: Tx,
    participantId: string,
    actor: string,
    reason: string,
    now: Date,
  ): Promise<{ entity: ApiKeyEntity; key: string }> {
    const generated = generateApiKey();
    const entity: ApiKeyEntity = {
      id: randomUUID(),
      participantId,
      prefix: generated.prefix,
      secretHash: generated.hash,
      state: ApiKeyState.API_KEY_STATE_ACTIVE,
      version: 1,
      createdBy: actor,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
      revokeReason: null,
    };
    await this.keys.insert(tx, entity);
    await tx.emit(eventOf(ApiKeyIssued, keyEventData(entity, reason, actor)));
    return { entity, key: generated.key };
  }

  /** Revokes a key (locked by the caller) unless it is revoked already. */
  async revoke(tx: Tx, key: ApiKeyEntity, actor: string, reason: string, now: Date): Promise<void> {
    if (key.state === (ApiKeyState.API_KEY_STATE_REVOKED as number)) return;
    Object.assign(key, {
      state: ApiKeyState.API_KEY_STATE_REVOKED,
      version: key.version + 1,
      revokedAt: now,
      revokeReason: truncateChars(reason, 500),
    });
    await this.keys.save(tx, key);
    await tx.emit(eventOf(ApiKeyRevoked, keyEventData(key, reason, actor)));
  }

  /** Revokes every active key of a participant (its revocation). */
  async revokeAll(
    tx: Tx,
    participantId: string,
    actor: string,
    reason: string,
    now: Date,
  ): Promise<void> {
    for (const key of await this.keys.lockActive(tx, participantId))
      await this.revoke(tx, key, actor, reason, now);
  }
}

function keyEventData(key: ApiKeyEntity, reason: string, actor: string) {
  return {
    apiKeyId: key.id,
    participantId: key.participantId,
    version: key.version,
    prefix: key.prefix,
    reason: truncateChars(reason, 500),
    actor: truncateChars(actor, 128),
  };
}
