import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  decodePageToken,
  pageOf,
  resolvePageSize,
} from '@cinode/common';
import { ApiKeyState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { actorOf, assertMayChange, assertMayRead } from '../access';
import { ParticipantEvents } from '../outbox-events';
import { checkParticipantId, checkRequestId } from '../participants/participants.service';
import { generateApiKey } from '@cinode/common';
import type { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository, type ApiKeysTx } from './api-keys.repository';

export const ApiKeyErrorReason = {
  API_KEY_NOT_FOUND: 'API_KEY_NOT_FOUND',
  API_KEY_REVOKED: 'API_KEY_REVOKED',
  REQUEST_ID_REUSED: 'REQUEST_ID_REUSED',
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class ApiKeysService {
  constructor(private readonly keys: ApiKeysRepository) {}

  async list(
    participantId: string,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ keys: ApiKeyEntity[]; nextPageToken: string }> {
    checkParticipantId(participantId);
    assertMayRead(caller, participantId);
    const limit = resolvePageSize(pageSize);
    const filterKey = `api-keys:${participantId}`;
    const rows = await this.keys.list(participantId, limit, decodePageToken(pageToken, filterKey));
    const { page, nextPageToken } = pageOf(
      rows,
      limit,
      (k) => ({ after: k.createdAt.toISOString(), afterId: k.id }),
      filterKey,
    );
    return { keys: page, nextPageToken };
  }

  /** Issues a replacement and revokes the old key in one transaction; idempotent on request_id. */
  async rotate(
    requestId: string,
    apiKeyId: string,
    caller: Caller,
  ): Promise<{ entity: ApiKeyEntity; key: string }> {
    const checks = new FieldChecks();
    checkRequestId(checks, requestId);
    checks
      .text('api_key_id', apiKeyId, {
        max: 36,
        pattern: UUID,
        patternHint: 'must be an API key id (UUID)',
      })
      .throwIfAny();
    const actor = actorOf(caller);
    return this.keys.transaction(async (tx) => {
      const old = await this.lock(tx, apiKeyId, caller);
      const earlier = await tx.findByRotationRequestId(requestId);
      if (earlier && earlier.participantId === old.participantId)
        return { entity: earlier, key: '' };
      // request_id is unique across participants: another's rotation under it is a conflict, not
      // a unique-index violation surfacing as INTERNAL.
      if (earlier) {
        throw new AlreadyExistsError(
          ApiKeyErrorReason.REQUEST_ID_REUSED,
          `request_id ${requestId} was used for another rotation`,
        );
      }
      if (old.state !== (ApiKeyState.API_KEY_STATE_ACTIVE as number)) {
        throw new FailedPreconditionError(
          ApiKeyErrorReason.API_KEY_REVOKED,
          `API key ${apiKeyId} is already revoked`,
        );
      }
      const now = new Date();
      const generated = generateApiKey();
      const entity: ApiKeyEntity = {
        id: randomUUID(),
        participantId: old.participantId,
        prefix: generated.prefix,
        secretHash: generated.hash,
        state: ApiKeyState.API_KEY_STATE_ACTIVE,
        createdBy: actor,
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
        revokeReason: null,
        rotationRequestId: requestId,
      };
      await tx.insert(entity);
      old.state = ApiKeyState.API_KEY_STATE_REVOKED;
      old.revokedAt = now;
      old.revokeReason = `rotated to ${entity.prefix}`;
      await tx.save(old);
      await tx.emit([
        {
          type: ParticipantEvents.KEY_ISSUED,
          data: {
            apiKeyId: entity.id,
            participantId: entity.participantId,
            prefix: entity.prefix,
            reason: 'rotation',
            actor,
          },
        },
        {
          type: ParticipantEvents.KEY_REVOKED,
          data: {
            apiKeyId: old.id,
            participantId: old.participantId,
            prefix: old.prefix,
            reason: 'rotation',
            actor,
          },
        },
      ]);
      return { entity, key: generated.key };
    });
  }

  async revoke(apiKeyId: string, reason: string, caller: Caller): Promise<ApiKeyEntity> {
    new FieldChecks()
      .text('api_key_id', apiKeyId, {
        max: 36,
        pattern: UUID,
        patternHint: 'must be an API key id (UUID)',
      })
      .text('reason', reason.trim(), { max: 500 })
      .throwIfAny();
    const actor = actorOf(caller);
    return this.keys.transaction(async (tx) => {
      const key = await this.lock(tx, apiKeyId, caller);
      if (key.state === (ApiKeyState.API_KEY_STATE_REVOKED as number)) return key;
      key.state = ApiKeyState.API_KEY_STATE_REVOKED;
      key.revokedAt = new Date();
      key.revokeReason = reason.trim();
      await tx.save(key);
      await tx.emit([
        {
          type: ParticipantEvents.KEY_REVOKED,
          data: {
            apiKeyId: key.id,
            participantId: key.participantId,
            prefix: key.prefix,
            reason: reason.trim(),
            actor,
          },
        },
      ]);
      return key;
    });
  }

  private async lock(tx: ApiKeysTx, id: string, caller: Caller): Promise<ApiKeyEntity> {
    const key = await tx.lockById(id);
    if (!key)
      throw new NotFoundError(ApiKeyErrorReason.API_KEY_NOT_FOUND, `API key ${id} does not exist`);
    assertMayChange(caller, key.participantId);
    return key;
  }
}
