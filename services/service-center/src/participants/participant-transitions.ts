import { truncateChars } from '@cinode/common';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  ParticipantUpdated,
  eventOf,
  type ParticipantEventData,
  type ParticipantKindName,
  type ParticipantStateName,
} from '@cinode/contracts';
import type { Tx } from '@cinode/database';
import { ParticipantState } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { shortStateName, transitionOf, type ParticipantAction } from './participant-lifecycle';
import { kindName } from './participant-roles';
import type { ParticipantEntity } from './participant.entity';
import { ParticipantsRepository } from './participants.repository';

/**
 * The one way a participant changes: a state transition (registration included) or a change of
 * details, each raising the version by one, recording what happened and announcing it with the
 * participant's current legal name and credit code, in the caller's transaction.
 */
@Injectable()
export class ParticipantTransitions {
  constructor(private readonly participants: ParticipantsRepository) {}

  /** Inserts a new participant as registered (it arrives in SUBMITTED with version 1). */
  async register(tx: Tx, participant: ParticipantEntity, actor: string, now: Date): Promise<void> {
    const { to, event } = transitionOf(ParticipantState.PARTICIPANT_STATE_UNSPECIFIED, 'register');
    Object.assign(participant, { state: to, version: 1, createdAt: now, updatedAt: now });
    await this.participants.insert(tx, participant);
    await this.record(
      tx,
      participant,
      ParticipantState.PARTICIPANT_STATE_UNSPECIFIED,
      actor,
      'registered',
      now,
    );
    await tx.emit(eventOf(event, eventData(participant, null, 'registered', actor)));
  }

  /**
   * Moves a participant (locked by the caller) through the state machine, or fails
   * FAILED_PRECONDITION; `changes` are applied with it (a resubmission's new details).
   */
  async apply(
    tx: Tx,
    participant: ParticipantEntity,
    action: Exclude<ParticipantAction, 'register'>,
    actor: string,
    reason: string,
    now: Date,
    changes: Partial<ParticipantEntity> = {},
  ): Promise<ParticipantEntity> {
    const from = participant.state as ParticipantState;
    const { to, event } = transitionOf(from, action);
    Object.assign(participant, changes, {
      state: to,
      version: participant.version + 1,
      updatedAt: now,
    });
    await this.participants.save(tx, participant);
    await this.record(tx, participant, from, actor, reason, now);
    await tx.emit(eventOf(event, eventData(participant, from, reason, actor)));
    return participant;
  }

  /** Saves changed details (no state change) and announces them. */
  async update(
    tx: Tx,
    participant: ParticipantEntity,
    actor: string,
    now: Date,
  ): Promise<ParticipantEntity> {
    participant.version += 1;
    participant.updatedAt = now;
    await this.participants.save(tx, participant);
    const state = participant.state as ParticipantState;
    await tx.emit(
      eventOf(ParticipantUpdated, eventData(participant, state, 'details changed', actor)),
    );
    return participant;
  }

  private record(
    tx: Tx,
    participant: ParticipantEntity,
    from: ParticipantState,
    actor: string,
    reason: string,
    now: Date,
  ): Promise<void> {
    return this.participants.recordTransition(tx, {
      id: randomUUID(),
      participantId: participant.id,
      fromState: from,
      toState: participant.state,
      actor,
      reason,
      createdAt: now,
    });
  }
}

/** What every participant event carries: what consumers need without calling back. */
export function eventData(
  participant: ParticipantEntity,
  previous: ParticipantState | null,
  reason: string,
  actor: string,
): ParticipantEventData {
  return {
    participantId: participant.id,
    version: participant.version,
    kind: kindName(participant.kind) as ParticipantKindName,
    state: shortStateName(participant.state) as ParticipantStateName,
    previousState:
      previous === null || previous === ParticipantState.PARTICIPANT_STATE_UNSPECIFIED
        ? null
        : (shortStateName(previous) as ParticipantStateName),
    legalName: participant.name,
    creditCode: participant.organization?.creditCode ?? null,
    reason: truncateChars(reason, 500),
    actor: truncateChars(actor, 128),
  };
}
