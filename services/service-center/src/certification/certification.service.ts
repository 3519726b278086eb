import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import { FieldChecks, resolvePageSize, PageTokens } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { actorOf, assertMayRead } from '../access';
import { ApiKeyIssuer } from '../api-keys/api-key-issuer';
import type { ApiKeyEntity } from '../api-keys/api-key.entity';
import type { ParticipantAction } from '../participants/participant-lifecycle';
import type { ParticipantTransitionEntity } from '../participants/participant-transition.entity';
import { ParticipantTransitions } from '../participants/participant-transitions';
import type { ParticipantEntity } from '../participants/participant.entity';
import { ParticipantsRepository } from '../participants/participants.repository';
import { notFound } from '../participants/participants.service';
import { checkParticipantId } from '../request-checks';

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
    private readonly pageTokens: PageTokens,
  ) {}

  async transition(
    participantId: string,
    action: CertificationAction,
    reason: string,
    caller: Caller,
  ): Promise<TransitionResult> {
    const checks = new FieldChecks().text('reason', reason.trim(), { max: 500 });
    checkParticipantId(participantId);
    checks.throwIfAny();
    const actor = actorOf(caller);
    const why = reason.trim();
    return this.uow.run(async (tx) => {
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
    });
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
