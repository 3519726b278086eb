import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  FieldChecks,
  NotFoundError,
  decodePageToken,
  pageOf,
  resolvePageSize,
} from '@cinode/common';
import {
  ApiKeyState,
  ParticipantState,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { actorOf, assertMayRead } from '../access';
import { generateApiKey } from '@cinode/common';
import type { ApiKeyEntity } from '../api-keys/api-key.entity';
import { ParticipantEvents, type PendingEvent } from '../outbox-events';
import { kindName } from '../participants/participant-roles';
import type { ParticipantEntity } from '../participants/participant.entity';
import { ParticipantErrorReason, checkParticipantId } from '../participants/participants.service';
import type { CertificationEventEntity } from './certification-event.entity';
import {
  eventTypeOf,
  nextState,
  shortStateName,
  type CertificationAction,
} from './certification-state';
import { CertificationRepository } from './certification.repository';

export interface TransitionResult {
  participant: ParticipantEntity;
  /** Set by certification: the first key and its only full copy. */
  issuedKey?: { entity: ApiKeyEntity; key: string };
}

/** Moves participants through the certification state machine; operators only (checked by the controller). */
@Injectable()
export class CertificationService {
  constructor(private readonly certification: CertificationRepository) {}

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
    return this.certification.transaction(async (tx) => {
      const participant = await tx.lockParticipant(participantId);
      if (!participant) {
        throw new NotFoundError(
          ParticipantErrorReason.PARTICIPANT_NOT_FOUND,
          `participant ${participantId} does not exist`,
        );
      }
      const from = participant.state as ParticipantState;
      const to = nextState(from, action);
      const now = new Date();
      participant.state = to;
      participant.updatedAt = now;
      await tx.saveParticipant(participant);
      await tx.recordTransition({
        id: randomUUID(),
        participantId,
        fromState: from,
        toState: to,
        actor,
        reason: why,
        createdAt: now,
      });

      const events: PendingEvent[] = [];
      const type = eventTypeOf(action, to);
      if (type) {
        events.push({
          type,
          data: {
            participantId,
            kind: kindName(participant.kind),
            state: shortStateName(to),
            previousState: shortStateName(from),
            reason: why,
            actor,
          },
        });
      }
      let issuedKey: TransitionResult['issuedKey'];
      if (action === 'certify') {
        const generated = generateApiKey();
        const entity: ApiKeyEntity = {
          id: randomUUID(),
          participantId,
          prefix: generated.prefix,
          secretHash: generated.hash,
          state: ApiKeyState.API_KEY_STATE_ACTIVE,
          createdBy: actor,
          createdAt: now,
          lastUsedAt: null,
          revokedAt: null,
          revokeReason: null,
          rotationRequestId: null,
        };
        await tx.insertApiKey(entity);
        issuedKey = { entity, key: generated.key };
        events.push({
          type: ParticipantEvents.KEY_ISSUED,
          data: {
            apiKeyId: entity.id,
            participantId,
            prefix: entity.prefix,
            reason: 'certified',
            actor,
          },
        });
      }
      if (action === 'revoke') {
        for (const key of await tx.revokeActiveKeys(
          participantId,
          now,
          `participant revoked: ${why}`,
        )) {
          events.push({
            type: ParticipantEvents.KEY_REVOKED,
            data: {
              apiKeyId: key.id,
              participantId,
              prefix: key.prefix,
              reason: 'participant revoked',
              actor,
            },
          });
        }
      }
      await tx.emit(events);
      return { participant, issuedKey };
    });
  }

  async listEvents(
    participantId: string,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ events: CertificationEventEntity[]; nextPageToken: string }> {
    checkParticipantId(participantId);
    assertMayRead(caller, participantId);
    const limit = resolvePageSize(pageSize);
    const filterKey = `certification-events:${participantId}`;
    const rows = await this.certification.listEvents(
      participantId,
      limit,
      decodePageToken(pageToken, filterKey),
    );
    const { page, nextPageToken } = pageOf(
      rows,
      limit,
      (e) => ({ after: e.createdAt.toISOString(), afterId: e.id }),
      filterKey,
    );
    return { events: page, nextPageToken };
  }
}
