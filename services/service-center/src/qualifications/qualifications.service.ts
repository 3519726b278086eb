import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
  fingerprintOf,
  resolvePageSize,
  PageTokens,
} from '@cinode/common';
import {
  QualificationExpired,
  QualificationGranted,
  QualificationRevoked,
  eventOf,
  type QualificationEventData,
} from '@cinode/contracts';
import { UnitOfWork, type Tx } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import {
  ParticipantKind,
  ParticipantState,
  QualificationState,
  type GrantResaleQualificationRequest,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { actorOf, assertMayRead, readsEverything, requestScopeOf } from '../access';
import { ErrorReason } from '../errors';
import { ParticipantsRepository } from '../participants/participants.repository';
import { notFound as participantNotFound } from '../participants/participants.service';
import { checkParticipantId, checkRequestId, checkUuid } from '../request-checks';
import type { QualificationEntity } from './qualification.entity';
import { QualificationsRepository } from './qualifications.repository';

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
    version: q.version,
    validFrom: q.validFrom.toISOString(),
    validUntil: q.validUntil.toISOString(),
    reason,
    actor,
  };
}

@Injectable()
export class QualificationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly qualifications: QualificationsRepository,
    private readonly participants: ParticipantsRepository,
    private readonly pageTokens: PageTokens,
  ) {}

  /**
   * Grants a certified reseller a resale qualification. A retry with the caller's request id answers
   * with the first grant even if the reseller has since been suspended or the period has begun to
   * run out: it describes what was done, not a new grant.
   */
  async grant(
    request: GrantResaleQualificationRequest,
    caller: Caller,
    now: Date = new Date(),
  ): Promise<QualificationEntity> {
    // The period is compared only once both ends are known to be valid times.
    const inRange = new FieldChecks()
      .timestamp('valid_from', request.validFrom)
      .timestamp('valid_until', request.validUntil).ok;
    const checks = new FieldChecks();
    checkRequestId(checks, request.requestId);
    checkUuid(checks, 'participant_id', request.participantId, 'a participant id');
    checks
      .timestamp('valid_from', request.validFrom)
      .timestamp('valid_until', request.validUntil)
      .text('reason', request.reason.trim(), { max: 500 });
    const validFrom = request.validFrom && inRange ? fromTimestamp(request.validFrom) : undefined;
    const validUntil =
      request.validUntil && inRange ? fromTimestamp(request.validUntil) : undefined;
    if (validFrom && validUntil && validUntil.getTime() <= validFrom.getTime())
      checks.add('valid_until', 'must be after valid_from');
    checks.throwIfAny();
    if (!validFrom || !validUntil) throw new Error('validity checked above');

    const actor = actorOf(caller);
    const outcome = await this.uow.idempotentInsert(
      {
        scope: requestScopeOf(caller),
        requestId: request.requestId,
        operation: 'GrantResaleQualification',
        fingerprint: fingerprintOf({
          participantId: request.participantId,
          validFrom: validFrom.toISOString(),
          validUntil: validUntil.toISOString(),
        }),
      },
      async (tx) => {
        if (validUntil.getTime() <= now.getTime()) {
          throw new ValidationError([
            { field: 'valid_until', description: 'must be in the future' },
          ]);
        }
        // FOR SHARE: a suspension or revocation cannot commit between the check and the grant.
        const participant = await this.participants.lock(tx, request.participantId, 'share');
        if (!participant) throw participantNotFound(request.participantId);
        if (participant.kind !== (ParticipantKind.PARTICIPANT_KIND_RESELLER as number)) {
          throw new FailedPreconditionError(
            ErrorReason.NOT_A_RESELLER,
            'resale qualifications are for resellers only',
          );
        }
        if (participant.state !== (ParticipantState.PARTICIPANT_STATE_CERTIFIED as number)) {
          throw new FailedPreconditionError(
            ErrorReason.PARTICIPANT_NOT_CERTIFIED,
            'the reseller is not certified',
            {
              metadata: {
                current_state: ParticipantState[participant.state] ?? String(participant.state),
              },
            },
          );
        }
        const qualification: QualificationEntity = {
          id: randomUUID(),
          participantId: request.participantId,
          version: 1,
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
        await this.qualifications.insert(tx, qualification);
        await tx.emit(
          eventOf(QualificationGranted, eventData(qualification, qualification.grantReason, actor)),
        );
        return { result: qualification, objectId: qualification.id };
      },
    );
    if (outcome.created) return outcome.result;
    const earlier = await this.qualifications.findById(outcome.objectId);
    if (!earlier)
      throw new Error(`grant ${request.requestId} made ${outcome.objectId}, now missing`);
    return earlier;
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
      this.pageTokens.decode(pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (q) => ({ after: q.createdAt.toISOString(), afterId: q.id }),
      filterKey,
    );
    return { qualifications: page, nextPageToken };
  }

  async revoke(id: string, reason: string, caller: Caller): Promise<QualificationEntity> {
    const checks = new FieldChecks();
    checkUuid(checks, 'qualification_id', id, 'a qualification id');
    checks.text('reason', reason.trim(), { max: 500 }).throwIfAny();
    const actor = actorOf(caller);
    return this.uow.run(async (tx) => {
      const q = await this.qualifications.lock(tx, id);
      if (!q)
        throw new NotFoundError(
          ErrorReason.QUALIFICATION_NOT_FOUND,
          `qualification ${id} does not exist`,
        );
      if (q.revokedAt) return q;
      Object.assign(q, {
        revokedAt: new Date(),
        revokedBy: actor,
        revokeReason: reason.trim(),
        version: q.version + 1,
      });
      await this.qualifications.save(tx, q);
      await tx.emit(eventOf(QualificationRevoked, eventData(q, reason.trim(), actor)));
      return q;
    });
  }

  /**
   * Whether the participant may act for customers at `now`. Reads the database: no cache to go
   * stale. Given a transaction, it reads through it and locks the participant and its valid
   * qualifications FOR SHARE, so a suspension or revocation cannot commit before that transaction
   * ends: what the transaction then writes is covered by the answer.
   */
  async check(participantId: string, now: Date = new Date(), tx?: Tx): Promise<ResaleCheck> {
    const participant = tx
      ? await this.participants.lock(tx, participantId, 'share')
      : await this.participants.findById(participantId);
    if (!participant) throw participantNotFound(participantId);
    if (participant.state !== (ParticipantState.PARTICIPANT_STATE_CERTIFIED as number)) {
      return { allowed: false, denialReason: 'PARTICIPANT_NOT_CERTIFIED' };
    }
    if (participant.kind !== (ParticipantKind.PARTICIPANT_KIND_RESELLER as number))
      return { allowed: false, denialReason: 'NOT_A_RESELLER' };
    const [valid] = await this.qualifications.findValidAt(participantId, now, tx);
    if (!valid) return { allowed: false, denialReason: 'NO_VALID_QUALIFICATION' };
    return { allowed: true, denialReason: '', validUntil: valid.validUntil };
  }

  /** For the parts of the service center that act for a reseller's customers (demands, orders). */
  async assertMayActForCustomers(
    participantId: string,
    now: Date = new Date(),
    tx?: Tx,
  ): Promise<void> {
    const result = await this.check(participantId, now, tx);
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
      const count = await this.uow.run(async (tx) => {
        const expired = await this.qualifications.claimExpired(tx, now, SWEEP_BATCH);
        for (const q of expired) {
          q.expiryRecordedAt = now;
          q.version += 1;
          await this.qualifications.save(tx, q);
          await tx.emit(eventOf(QualificationExpired, eventData(q, 'validity ended', 'system')));
        }
        return expired.length;
      });
      total += count;
      if (count < SWEEP_BATCH) return total;
    }
  }
}
