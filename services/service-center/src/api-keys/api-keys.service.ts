import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  fingerprintOf,
  resolvePageSize,
  PageTokens,
} from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import {
  ApiKeyState,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { actorOf, assertMayChange, assertMayRead, requestScopeOf } from '../access';
import { ErrorReason } from '../errors';
import { ParticipantsRepository } from '../participants/participants.repository';
import { checkParticipantId, checkRequestId, checkUuid } from '../request-checks';
import { ApiKeyIssuer } from './api-key-issuer';
import type { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: ApiKeysRepository,
    private readonly issuer: ApiKeyIssuer,
    private readonly participants: ParticipantsRepository,
    private readonly pageTokens: PageTokens,
  ) {}

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
    const rows = await this.keys.list(
      participantId,
      limit,
      this.pageTokens.decode(pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (k) => ({ after: k.createdAt.toISOString(), afterId: k.id }),
      filterKey,
    );
    return { keys: page, nextPageToken };
  }

  /**
   * Issues a replacement and revokes the old key in one transaction. A retry with the caller's
   * request id answers with the replacement the first call issued, without its secret (shown once).
   */
  async rotate(
    requestId: string,
    apiKeyId: string,
    caller: Caller,
  ): Promise<{ entity: ApiKeyEntity; key: string }> {
    const checks = new FieldChecks();
    checkRequestId(checks, requestId);
    checkUuid(checks, 'api_key_id', apiKeyId, 'an API key id');
    checks.throwIfAny();
    const actor = actorOf(caller);
    const outcome = await this.uow.idempotentInsert(
      {
        scope: requestScopeOf(caller),
        requestId,
        operation: 'RotateApiKey',
        fingerprint: fingerprintOf({ apiKeyId }),
      },
      async (tx) => {
        // The call is about the key it rotates (the audit record's object), not the new one.
        tx.objectId = apiKeyId;
        // The participant first, then its key: the order RevokeParticipant locks them in, so the
        // two cannot deadlock. FOR SHARE: a revocation (which revokes the keys under FOR UPDATE)
        // cannot commit between this check and the new key.
        const unlocked = await this.keys.findById(apiKeyId, tx);
        if (!unlocked)
          throw new NotFoundError(
            ErrorReason.API_KEY_NOT_FOUND,
            `API key ${apiKeyId} does not exist`,
          );
        assertMayChange(caller, unlocked.participantId);
        const participant = await this.participants.lock(tx, unlocked.participantId, 'share');
        const old = await this.lock(tx, apiKeyId, caller);
        if (participant?.state === (ParticipantState.PARTICIPANT_STATE_REVOKED as number)) {
          throw new FailedPreconditionError(
            ErrorReason.PARTICIPANT_REVOKED,
            'a revoked participant gets no new keys',
          );
        }
        if (old.state !== (ApiKeyState.API_KEY_STATE_ACTIVE as number)) {
          throw new FailedPreconditionError(
            ErrorReason.API_KEY_REVOKED,
            `API key ${apiKeyId} is already revoked`,
          );
        }
        const now = new Date();
        const issued = await this.issuer.issue(tx, old.participantId, actor, 'rotation', now);
        await this.issuer.revoke(tx, old, actor, `rotated to ${issued.entity.prefix}`, now);
        return { result: issued, objectId: issued.entity.id };
      },
    );
    if (outcome.created) return outcome.result;
    const earlier = await this.keys.findById(outcome.objectId);
    if (!earlier)
      throw new Error(`rotation ${requestId} issued key ${outcome.objectId}, now missing`);
    return { entity: earlier, key: '' };
  }

  async revoke(apiKeyId: string, reason: string, caller: Caller): Promise<ApiKeyEntity> {
    const checks = new FieldChecks();
    checkUuid(checks, 'api_key_id', apiKeyId, 'an API key id');
    checks.text('reason', reason.trim(), { max: 500 }).throwIfAny();
    return this.uow.run(async (tx) => {
      const key = await this.lock(tx, apiKeyId, caller);
      await this.issuer.revoke(tx, key, actorOf(caller), reason.trim(), new Date());
      return key;
    });
  }

  private async lock(tx: Tx, id: string, caller: Caller): Promise<ApiKeyEntity> {
    const key = await this.keys.lock(tx, id);
    if (!key)
      throw new NotFoundError(ErrorReason.API_KEY_NOT_FOUND, `API key ${id} does not exist`);
    assertMayChange(caller, key.participantId);
    return key;
  }
}
