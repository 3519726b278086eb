import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { FieldChecks, fingerprintOf, resolvePageSize, PageTokens } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { actorOf, assertMayRead, requestScopeOf } from '../access';
import { ApiKeyIssuer } from '../api-keys/api-key-issuer';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import type { ApiKeyEntity } from '../api-keys/api-key.entity';
import type { ParticipantAction } from '../participants/participant-lifecycle';
import type { ParticipantTransitionEntity } from '../participants/participant-transition.entity';
import { ParticipantTransitions } from '../participants/participant-transitions';
import type { ParticipantEntity } from '../participants/participant.entity';
import { ParticipantsRepository } from '../participants/participants.repository';
import { notFound } from '../participants/participants.service';
import { checkParticipantId, checkRequestId } from '../request-checks';

/** The actions operators take on a participant's certification. */
export type CertificationAction = Exclude<ParticipantAction, 'register' | 'resubmit'>;

export interface TransitionResult {
  participant: ParticipantEntity;
  /** Set by certification: the first key and its only full copy. */
  issuedKey?: { entity: ApiKeyEntity; key: string };
}

/** Reviews participants: operators move them through the state machine (checked by the controller). */
@Injectable()
export class CertificationService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly participants: ParticipantsRepository,
    private readonly transitions: ParticipantTransitions,
    private readonly keys: ApiKeyIssuer,
    private readonly apiKeys: ApiKeysRepository,
    private readonly pageTokens: PageTokens,
  ) {}

  async transition(
    participantId: string,
    action: CertificationAction,
    reason: string,
    caller: Caller,
  ): Promise<TransitionResult> {
    this.check(participantId, reason);
    return this.uow.run((tx) => this.apply(tx, participantId, action, reason.trim(), caller));
  }

  /**
   * Certifies, at most once per request id (when one is given): a retry answers with the
   * participant as it is now and the key the first call issued, without its secret (shown once).
   */
  async certify(
    participantId: string,
    reason: string,
    requestId: string,
    caller: Caller,
  ): Promise<TransitionResult> {
    if (requestId === '') return this.transition(participantId, 'certify', reason, caller);
    const checks = new FieldChecks();
    checkRequestId(checks, requestId);
    checks.throwIfAny();
    this.check(participantId, reason);
    const why = reason.trim();
    const outcome = await this.uow.idempotentInsert(
      {
        scope: requestScopeOf(caller),
        requestId,
        operation: 'CertifyParticipant',
        fingerprint: fingerprintOf({ participantId, reason: why }),
      },
      async (tx) => {
        // The call is about the participant (its audit record's object), not the key it issues.
        tx.objectId = participantId;
        const result = await this.apply(tx, participantId, 'certify', why, caller);
        if (!result.issuedKey) throw new Error('certification issued no key');
        return { result, objectId: result.issuedKey.entity.id };
      },
    );
    if (outcome.created) return outcome.result;
    const [participant, key] = await Promise.all([
      this.participants.findById(participantId),
      this.apiKeys.findById(outcome.objectId),
    ]);
    if (!participant || !key)
      throw new Error(`certification ${requestId} issued key ${outcome.objectId}, now missing`);
    return { participant, issuedKey: { entity: key, key: '' } };
  }

  private check(participantId: string, reason: string): void {
    const checks = new FieldChecks().text('reason', reason.trim(), { max: 500 });
    checkParticipantId(participantId);
    checks.throwIfAny();
  }

  private async apply(
    tx: Tx,
    participantId: string,
    action: CertificationAction,
    why: string,
    caller: Caller,
  ): Promise<TransitionResult> {
    const actor = actorOf(caller);
    const participant = await this.participants.lock(tx, participantId);
    if (!participant) throw notFound(participantId);
    const now = new Date();
    await this.transitions.apply(tx, participant, action, actor, why, now);
    let issuedKey: TransitionResult['issuedKey'];
    if (action === 'certify')
      issuedKey = await this.keys.issue(tx, participantId, actor, 'certified', now);
    if (action === 'revoke')
      await this.keys.revokeAll(tx, participantId, actor, `participant revoked: ${why}`, now);
    return { participant, issuedKey };
  }

  async listEvents(
    participantId: string,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ events: ParticipantTransitionEntity[]; nextPageToken: string }> {
    checkParticipantId(participantId);
    assertMayRead(caller, participantId);
    const limit = resolvePageSize(pageSize);
    const filterKey = `certification-events:${participantId}`;
    const rows = await this.participants.listTransitions(
      participantId,
      limit,
      this.pageTokens.decode(pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (e) => ({ after: e.createdAt.toISOString(), afterId: e.id }),
      filterKey,
    );
    return { events: page, nextPageToken };
  }
}
