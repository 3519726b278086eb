import { truncateChars } from '@cinode/common';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  ParticipantCertified,
  ParticipantLifecycle,
  ParticipantRegistered,
  ParticipantRejected,
  ParticipantReinstated,
  ParticipantRevoked,
  ParticipantSuspended,
  ParticipantUnderReview,
  ParticipantUpdated,
  type ParticipantStateName,
  type ReceivedEvent,
} from '@cinode/contracts';
import {
  EventConsumerRegistry,
  PermanentEventError,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import {
  IdentifierLifecycle,
  ownerSuspensionCause,
} from '../lifecycle/identifier-lifecycle.service';
import { ParticipantsRepository } from '../participants/participants.repository';

export const PARTICIPANT_CONSUMER = 'identifier-participants';
const ACTOR = 'system:participant-events';

type LifecycleContract = (typeof ParticipantLifecycle.events)[number];
type ParticipantEvent = ReceivedEvent<LifecycleContract>;

/**
 * The state each event type leaves the participant in; `undefined` where any state goes (a change
 * of details keeps the state it was in). An event contradicting this cannot be acted on.
 */
const STATE_AFTER: Readonly<Record<LifecycleContract['type'], ParticipantStateName | undefined>> = {
  [ParticipantRegistered.type]: 'SUBMITTED',
  [ParticipantUnderReview.type]: 'UNDER_REVIEW',
  [ParticipantCertified.type]: 'CERTIFIED',
  [ParticipantRejected.type]: 'REJECTED',
  [ParticipantSuspended.type]: 'SUSPENDED',
  [ParticipantReinstated.type]: 'CERTIFIED',
  [ParticipantRevoked.type]: 'REVOKED',
  [ParticipantUpdated.type]: undefined,
};

/**
 * Keeps the participant projection (kind, state, certified name and credit code) that issuing
 * reads, and makes owners' identifiers follow them. A participant's events are applied in version
 * order: one no newer than the row changes nothing, so a late or repeated event cannot undo a newer
 * one. When the row advances, the identifiers are brought in line with the state the event leaves
 * the owner in: a suspended or revoked owner's FILED identifiers are suspended with that cause, and
 * a certified owner's identifiers suspended for its suspension return to FILED (ones an operator
 * suspended stay suspended).
 */
@Injectable()
export class ParticipantEventsConsumer implements OnModuleInit {
  private readonly logger = new Logger(ParticipantEventsConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly participants: ParticipantsRepository,
    private readonly lifecycle: IdentifierLifecycle,
  ) {}

  definition(): ConsumerDefinition<LifecycleContract> {
    return {
      name: PARTICIPANT_CONSUMER,
      source: ParticipantLifecycle,
      handle: (event, context) => this.handle(event, context),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  async handle(event: ParticipantEvent, context: EventHandlerContext): Promise<void> {
    const { data } = event;
    const expected = STATE_AFTER[event.type];
    if (expected !== undefined && data.state !== expected) {
      throw new PermanentEventError(
        `${event.type} of ${data.participantId} (version ${data.version}) says the state is ${data.state}, not ${expected}`,
      );
    }
    const advanced = await this.participants.applyIfNewer(context.tx, {
      participantId: data.participantId,
      version: data.version,
      kind: data.kind,
      state: data.state,
      legalName: data.legalName,
      creditCode: data.creditCode,
      eventId: context.envelope.id,
    });
    if (!advanced) {
      this.logger.debug?.(
        `${event.type} version ${data.version} of ${data.participantId} is not newer than the projection; ignored`,
      );
      return;
    }
    const reason = truncateChars(
      `owner ${data.state.toLowerCase()}${data.reason ? `: ${data.reason}` : ''}`,
      500,
    );
    const cause = ownerSuspensionCause(data.state);
    if (cause) {
      await this.lifecycle.suspendOwned(context.tx, data.participantId, cause, ACTOR, reason);
    } else if (data.state === 'CERTIFIED') {
      await this.lifecycle.restoreOwned(context.tx, data.participantId, ACTOR, reason);
    }
  }
}
