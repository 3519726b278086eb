import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  decodePageToken,
  pageOf,
  resolvePageSize,
} from '@cinode/common';
import { fromTimestamp } from '@cinode/grpc';
import {
  ParticipantKind,
  ParticipantState,
  QualificationState,
  type GrantResaleQualificationRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { actorOf, assertMayRead, readsEverything } from '../access';
import { ParticipantEvents, type QualificationEventData } from '../outbox-events';
import {
  ParticipantErrorReason,
  checkParticipantId,
  checkRequestId,
} from '../participants/participants.service';
import type { QualificationEntity } from './qualification.entity';
import { QualificationsRepository } from './qualifications.repository';

export const QualificationErrorReason = {
  QUALIFICATION_NOT_FOUND: 'QUALIFICATION_NOT_FOUND',
  NOT_A_RESELLER: 'NOT_A_RESELLER',
  PARTICIPANT_NOT_CERTIFIED: 'PARTICIPANT_NOT_CERTIFIED',
  NO_VALID_QUALIFICATION: 'NO_VALID_QUALIFICATION',
  QUALIFICATION_REVOKED: 'QUALIFICATION_REVOKED',
  REQUEST_ID_REUSED: 'REQUEST_ID_REUSED',
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SWEEP_BATCH = 100;

/** A qualification's state at `now`: derived, never stored, so expiry needs no job to take effect. */
export function qualificationStateAt(q: QualificationEntity, now: Date): QualificationState {
  if (q.revokedAt) return QualificationState.QUALIFICATION_STATE_REVOKED;
  if (now.getTime() < q.validFrom.getTime())
    return QualificationState.QUALIFICATION_STATE_NOT_YET_VALID;
  if (now.getTime() >= q.validUntil.getTime())
    return QualificationState.QUALIFICATION_STATE_EXPIRED;
  return QualificationState.QUALIFICATION_STATE_VALID;
}

export interface ResaleCheck {
  allowed: boolean;
  denialReason: '' | 'PARTICIPANT_NOT_CERTIFIED' | 'NOT_A_RESELLER' | 'NO_VALID_QUALIFICATION';
  validUntil?: Date;
}

function eventData(q: QualificationEntity, reason: string, actor: string): QualificationEventData {
  return {
    qualificationId: q.id,
    participantId: q.participantId,
    validFrom: q.validFrom.toISOString(),
    validUntil: q.validUntil.toISOString(),
    reason,
    actor,
  };
}

@Injectable()
export class QualificationsService {
  constructor(private readonly qualifications: QualificationsRepository) {}

  async grant(
    request: GrantResaleQualificationRequest,
    caller: Caller,
    now: Date = new Date(),
  ): Promise<QualificationEntity> {
    const checks = new FieldChecks();
    checkRequestId(checks, request.requestId);
    checks
      .text('participant_id', request.participantId, {
        max: 36,
        pattern: UUID,
        patternHint: 'must be a participant id (UUID)',
      })
      .present('valid_from', request.validFrom)
      .present('valid_until', request.validUntil)
      .text('reason', request.reason.trim(), { max: 500 });
    const validFrom = request.validFrom ? fromTimestamp(request.validFrom) : undefined;
    const validUntil = request.validUntil ? fromTimestamp(request.validUntil) : undefined;
    if (validFrom && validUntil && validUntil.getTime() <= validFrom.getTime())
      checks.add('valid_until', 'must be after valid_from');
    checks.throwIfAny();
    if (!validFrom || !validUntil) throw new Error('validity checked above');

    // A retry of a grant that succeeded answers with it even if the reseller has since been
    // suspended or the period has begun to run out: it describes what was done, not a new grant.
    const earlier = await this.qualifications.findByRequestId(request.requestId);
    if (earlier) return this.retried(earlier, request, validFrom, validUntil);
    if (validUntil.getTime() <= now.getTime()) {
      throw new ValidationError([{ field: 'valid_until', description: 'must be in the future' }]);
    }

    const actor = actorOf(caller);
    const candidate: QualificationEntity = {
      id: randomUUID(),
      participantId: request.participantId,
      requestId: request.requestId,
      validFrom,
      validUntil,
      grantedBy: actor,
      grantReason: request.reason.trim(),
      createdAt: now,
      revokedAt: null,
      revokedBy: null,
      revokeReason: null,
      expiryRecordedAt: null,
    };
    const inserted = await this.qualifications.transaction(async (tx) => {
      const participant = await tx.findParticipant(request.participantId);
      if (!participant) {
        throw new NotFoundError(
          ParticipantErrorReason.PARTICIPANT_NOT_FOUND,
          `participant ${request.participantId} does not exist`,
        );
      }
      if (participant.kind !== (ParticipantKind.PARTICIPANT_KIND_RESELLER as number)) {
        throw new FailedPreconditionError(
          QualificationErrorReason.NOT_A_RESELLER,
          'resale qualifications are for resellers only',
        );
      }
      if (participant.state !== (ParticipantState.PARTICIPANT_STATE_CERTIFIED as number)) {
        throw new FailedPreconditionError(
          QualificationErrorReason.PARTICIPANT_NOT_CERTIFIED,
          'the reseller is not certified',
          {
            metadata: {
              current_state: ParticipantState[participant.state] ?? String(participant.state),
            },
          },
        );
      }
      if (!(await tx.insertIfAbsent(candidate))) return false;
      await tx.emit([
        {
          type: ParticipantEvents.QUALIFICATION_GRANTED,
          data: eventData(candidate, candidate.grantReason, actor),
        },
      ]);
      return true;
    });
    if (inserted) return candidate;
    const existing = await this.qualifications.findByRequestId(request.requestId);
    if (!existing)
      throw new Error(`qualification request ${request.requestId} conflicted but cannot be read`);
    return this.retried(existing, request, validFrom, validUntil);
  }

  private retried(
    existing: QualificationEntity,
    request: GrantResaleQualificationRequest,
    validFrom: Date,
    validUntil: Date,
  ): QualificationEntity {
    if (
      existing.participantId !== request.participantId ||
      existing.validFrom.getTime() !== validFrom.getTime() ||
      existing.validUntil.getTime() !== validUntil.getTime()
    ) {
      throw new AlreadyExistsError(
        QualificationErrorReason.REQUEST_ID_REUSED,
        `request_id ${request.requestId} was used for another grant`,
      );
    }
    return existing;
  }

  async list(
    participantId: string,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ qualifications: QualificationEntity[]; nextPageToken: string }> {
    if (participantId) checkParticipantId(participantId);
    const scope = readsEverything(caller) ? participantId || undefined : caller.tenant;
    if (participantId) assertMayRead(caller, participantId);
    const limit = resolvePageSize(pageSize);
    const filterKey = `qualifications:${scope ?? '*'}`;
    const rows = await this.qualifications.list(
      scope,
      limit,
      decodePageToken(pageToken, filterKey),
    );
    const { page, nextPageToken } = pageOf(
      rows,
      limit,
      (q) => ({ after: q.createdAt.toISOString(), afterId: q.id }),
      filterKey,
    );
    return { qualifications: page, nextPageToken };
  }

  async revoke(id: string, reason: string, caller: Caller): Promise<QualificationEntity> {
    new FieldChecks()
      .text('qualification_id', id, {
        max: 36,
        pattern: UUID,
        patternHint: 'must be a qualification id (UUID)',
      })
      .text('reason', reason.trim(), { max: 500 })
      .throwIfAny();
    const actor = actorOf(caller);
    return this.qualifications.transaction(async (tx) => {
      const q = await tx.lockById(id);
      if (!q)
        throw new NotFoundError(
          QualificationErrorReason.QUALIFICATION_NOT_FOUND,
          `qualification ${id} does not exist`,
        );
      if (q.revokedAt) return q;
      q.revokedAt = new Date();
      q.revokedBy = actor;
      q.revokeReason = reason.trim();
      await tx.save(q);
      await tx.emit([
        {
          type: ParticipantEvents.QUALIFICATION_REVOKED,
          data: eventData(q, q.revokeReason, actor),
        },
      ]);
      return q;
    });
  }

  /** Whether the participant may act for customers at `now`. Reads the database: no cache to go stale. */
  async check(participantId: string, now: Date = new Date()): Promise<ResaleCheck> {
    const participant = await this.qualifications.findParticipant(participantId);
    if (!participant) {
      throw new NotFoundError(
        ParticipantErrorReason.PARTICIPANT_NOT_FOUND,
        `participant ${participantId} does not exist`,
      );
    }
    if (participant.state !== (ParticipantState.PARTICIPANT_STATE_CERTIFIED as number)) {
      return { allowed: false, denialReason: 'PARTICIPANT_NOT_CERTIFIED' };
    }
    if (participant.kind !== (ParticipantKind.PARTICIPANT_KIND_RESELLER as number))
      return { allowed: false, denialReason: 'NOT_A_RESELLER' };
    const [valid] = await this.qualifications.findValidAt(participantId, now);
    if (!valid) return { allowed: false, denialReason: 'NO_VALID_QUALIFICATION' };
    return { allowed: true, denialReason: '', validUntil: valid.validUntil };
  }

  /** For the parts of the service center that act for a reseller's customers (demands, orders). */
  async assertMayActForCustomers(participantId: string, now: Date = new Date()): Promise<void> {
    const result = await this.check(participantId, now);
    if (!result.allowed) {
      throw new PermissionDeniedError(
        result.denialReason,
        `participant may not act for customers: ${result.denialReason}`,
      );
    }
  }

  async checkFor(participantId: string, caller: Caller): Promise<ResaleCheck> {
    checkParticipantId(participantId);
    assertMayRead(caller, participantId);
    return this.check(participantId);
  }

  /**
   * Records expiries and emits `qualification.expired`, a batch at a time. Rows are claimed with
   * FOR UPDATE SKIP LOCKED, so replicas sweeping at once never emit the same expiry twice.
   */
  async sweepExpired(now: Date = new Date()): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.qualifications.transaction(async (tx) => {
        const expired = await tx.claimExpired(now, SWEEP_BATCH);
        for (const q of expired) {
          q.expiryRecordedAt = now;
          await tx.save(q);
        }
        await tx.emit(
          expired.map((q) => ({
            type: ParticipantEvents.QUALIFICATION_EXPIRED,
            data: eventData(q, 'validity ended', 'system'),
          })),
        );
        return expired.length;
      });
      total += count;
      if (count < SWEEP_BATCH) return total;
    }
  }
}
