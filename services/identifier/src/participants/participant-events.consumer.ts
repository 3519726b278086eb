import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  EventConsumerRegistry,
  NATS_CONNECTION,
  defineStream,
  isStreamNotFound,
  toStreamConfig,
  type EventEnvelope,
  type EventHandlerContext,
} from '@cinode/events';
import type { NatsConnection } from 'nats';
import { IdentifiersService } from '../identifiers/identifiers.service';
import { normaliseParticipantState } from './participant-state';
import { ParticipantsRepository } from './participants.repository';

export const PARTICIPANT_CONSUMER = 'identifier-participants';
export const PARTICIPANT_STREAM = 'PARTICIPANT';
const PARTICIPANT_EVENT_PREFIX = 'cinode.participant.participant.';
const ACTOR = 'system:participant-events';

/** The data of the service center's participant events, as far as this service relies on it. */
export interface ParticipantEventData {
  participantId: string;
  kind: string;
  state: string;
  previousState?: string;
  reason?: string;
  actor?: string;
}

export function parseParticipantEvent(envelope: EventEnvelope<unknown>): ParticipantEventData {
  const data = envelope.data;
  if (typeof data !== 'object' || data === null)
    throw new Error(`participant event ${envelope.id} has no data object`);
  const d = data as Record<string, unknown>;
  if (typeof d.participantId !== 'string' || d.participantId === '')
    throw new Error(`participant event ${envelope.id} has no participantId`);
  if (typeof d.state !== 'string' || d.state === '')
    throw new Error(`participant event ${envelope.id} has no state`);
  return {
    participantId: d.participantId,
    kind: typeof d.kind === 'string' ? d.kind : '',
    state: normaliseParticipantState(d.state),
    previousState:
      typeof d.previousState === 'string' ? normaliseParticipantState(d.previousState) : undefined,
    reason: typeof d.reason === 'string' ? d.reason : undefined,
    actor: typeof d.actor === 'string' ? d.actor : undefined,
  };
}

/**
 * Keeps the local participant projection (id -> kind, state) that IssueIdentifier checks, and makes
 * owners' identifiers follow them: suspended or revoked owners' FILED identifiers are suspended,
 * and a reinstated owner's identifiers that were suspended for that reason return to FILED (ones an
 * operator suspended stay suspended). Idempotent: the consumer records each event id, and the
 * projection ignores events older than the one it holds.
 */
@Injectable()
export class ParticipantEventsConsumer implements OnModuleInit {
  private readonly logger = new Logger(ParticipantEventsConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly participants: ParticipantsRepository,
    private readonly identifiers: IdentifiersService,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureParticipantStream();
    await this.registry.register({
      name: PARTICIPANT_CONSUMER,
      stream: PARTICIPANT_STREAM,
      filterSubject: `${PARTICIPANT_EVENT_PREFIX}>`,
      handle: (envelope, context) => this.handle(envelope, context),
    });
  }

  async handle(envelope: EventEnvelope<unknown>, context: EventHandlerContext): Promise<void> {
    const data = parseParticipantEvent(envelope);
    const applied = await this.participants.upsertIfNewer(context.manager, {
      participantId: data.participantId,
      kind: data.kind,
      state: data.state,
      eventTime: new Date(envelope.time),
      eventId: envelope.id,
    });
    if (!applied) {
      this.logger.debug?.(
        `participant event ${envelope.id} is older than the projection of ${data.participantId}; ignored`,
      );
      return;
    }
    const verb = envelope.type.startsWith(PARTICIPANT_EVENT_PREFIX)
      ? envelope.type.slice(PARTICIPANT_EVENT_PREFIX.length)
      : '';
    const reason = `owner ${data.state}${data.reason ? `: ${data.reason}` : ''}`.slice(0, 500);
    if (data.state === 'revoked' || verb === 'revoked') {
      await this.identifiers.suspendForOwner(
        context.manager,
        data.participantId,
        'owner_revoked',
        ACTOR,
        reason,
      );
    } else if (data.state === 'suspended' || verb === 'suspended') {
      await this.identifiers.suspendForOwner(
        context.manager,
        data.participantId,
        'owner_suspended',
        ACTOR,
        reason,
      );
    } else if (
      verb === 'reinstated' ||
      (data.state === 'certified' && data.previousState === 'suspended')
    ) {
      await this.identifiers.restoreForOwner(context.manager, data.participantId, ACTOR, reason);
    }
  }

  /**
   * The service center owns the PARTICIPANT stream; create it only if it is missing, so this
   * service can start first. Never update it: the owner's settings win.
   */
  private async ensureParticipantStream(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    try {
      await jsm.streams.info(PARTICIPANT_STREAM);
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      try {
        await jsm.streams.add(
          toStreamConfig(
            defineStream({ name: PARTICIPANT_STREAM, subjects: ['cinode.participant.>'] }),
          ),
        );
      } catch (addError) {
        // The service center may have created it in the meantime.
        await jsm.streams.info(PARTICIPANT_STREAM).catch(() => {
          throw addError;
        });
      }
    }
  }
}
