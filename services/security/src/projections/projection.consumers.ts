import { Injectable, type OnModuleInit } from '@nestjs/common';
import {
  ParticipantLifecycle,
  PoolRegistered,
  RESOURCE_STREAM,
  defineEventSource,
  type ReceivedEvent,
} from '@cinode/contracts';
import { EventConsumerRegistry, type EventHandlerContext } from '@cinode/events';
import { RiskService } from '../risk/risk.service';
import { ParticipantsRepository } from './participants.repository';

type Of<S extends { events: readonly unknown[] }> = S['events'][number];

/** Durable consumer names (JetStream consumers and processed_event keys). */
export const CONSUMERS = {
  participants: 'security-participants',
  pools: 'security-pools',
} as const;

/** Only registrations: a pool's provider never changes, and the busy inventory events are not needed. */
export const PoolRegistrations = defineEventSource({
  stream: RESOURCE_STREAM,
  filterSubject: PoolRegistered.type,
  events: [PoolRegistered],
});

/**
 * Keeps the projections risk needs: each participant's certification state (a suspended or
 * revoked participant is riskier, and a change is assessed at once) and each pool's provider (a
 * pool's risk includes its provider's; findings and attack events may name pools).
 */
@Injectable()
export class ProjectionConsumers implements OnModuleInit {
  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly participants: ParticipantsRepository,
    private readonly risk: RiskService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.register({
      name: CONSUMERS.participants,
      source: ParticipantLifecycle,
      handle: (event, context) => this.participant(event, context),
    });
    await this.registry.register({
      name: CONSUMERS.pools,
      source: PoolRegistrations,
      handle: (event, context) => this.pool(event, context),
    });
  }

  private async participant(
    event: ReceivedEvent<Of<typeof ParticipantLifecycle>>,
    { tx }: EventHandlerContext,
  ): Promise<void> {
    const { participantId, kind, state, version } = event.data;
    const { applied, previousState } = await this.participants.recordStanding(tx, {
      participantId,
      kind,
      state,
      version,
    });
    if (applied && previousState !== state)
      await this.risk.reassess(tx, [{ kind: 'participant', id: participantId }]);
  }

  private async pool(
    event: ReceivedEvent<Of<typeof PoolRegistrations>>,
    { tx }: EventHandlerContext,
  ): Promise<void> {
    const { poolId, providerParticipantId, securityLevel } = event.data;
    if (await this.participants.recordPool(tx, { poolId, providerParticipantId, securityLevel }))
      await this.risk.reassess(tx, [{ kind: 'pool', id: poolId }]);
  }
}
