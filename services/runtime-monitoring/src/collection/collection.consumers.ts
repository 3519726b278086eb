import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  AllocationChanges,
  IdentifierChanges,
  MarketChanges,
  ParticipantLifecycle,
  PoolChanges,
  poolsOf,
  type ReceivedEvent,
} from '@cinode/contracts';
import { EventConsumerRegistry, type EventHandlerContext } from '@cinode/events';
import type { Tx } from '@cinode/database';
import type { FeedEntry } from '../feed/feed-entry';
import { FeedRepository } from '../feed/feed.repository';
import type { Observation } from '../series/metrics';
import { CollectionRepository } from './collection.repository';
import {
  interpretAllocation,
  interpretDemand,
  interpretIdentifier,
  interpretOrder,
  interpretParticipant,
  interpretPool,
  type EventMeta,
  type Interpretation,
  type PoolState,
} from './interpret';

/** Durable consumer names (JetStream consumers and processed_event keys). */
export const CONSUMERS = {
  participants: 'monitoring-participants',
  pools: 'monitoring-pools',
  allocations: 'monitoring-allocations',
  market: 'monitoring-market',
  identifiers: 'monitoring-identifiers',
} as const;

type Of<S extends { events: readonly unknown[] }> = S['events'][number];

function metaOf(context: EventHandlerContext): EventMeta {
  return {
    id: context.envelope.id,
    type: context.envelope.type,
    time: new Date(context.envelope.time),
  };
}

/**
 * Collects the four domains from the node's streams: one durable consumer per source, each event
 * handled once (the kit records its id in processed_event in the handler's transaction). A handler
 * stages observations (folded into the series in batches by SeriesRollup), keeps the projections
 * it needs for durations and levels, and appends to the feed last (see FeedRepository.append).
 */
@Injectable()
export class CollectionConsumers implements OnModuleInit {
  private readonly logger = new Logger(CollectionConsumers.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly collection: CollectionRepository,
    private readonly feed: FeedRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.register({
      name: CONSUMERS.participants,
      source: ParticipantLifecycle,
      handle: (event, context) => this.participant(event, context),
    });
    await this.registry.register({
      name: CONSUMERS.pools,
      source: PoolChanges,
      handle: (event, context) => this.pool(event, context),
      prefetch: 100,
    });
    await this.registry.register({
      name: CONSUMERS.allocations,
      source: AllocationChanges,
      handle: (event, context) => this.allocation(event, context),
    });
    await this.registry.register({
      name: CONSUMERS.market,
      source: MarketChanges,
      handle: (event, context) => this.market(event, context),
    });
    await this.registry.register({
      name: CONSUMERS.identifiers,
      source: IdentifierChanges,
      handle: (event, context) => this.identifier(event, context),
    });
  }

  private async store(tx: Tx, result: Interpretation): Promise<void> {
    await this.collection.stage(tx, result.observations);
    await this.feed.append(tx, result.feed);
  }

  async participant(
    event: ReceivedEvent<Of<typeof ParticipantLifecycle>>,
    context: EventHandlerContext,
  ): Promise<void> {
    const { tx } = context;
    await this.collection.lockObject(tx, 'participant', event.data.participantId);
    const previous = await this.collection.findParticipant(tx, event.data.participantId);
    const result = interpretParticipant(metaOf(context), event.data, previous);
    if (result.next) await this.collection.saveParticipant(tx, result.next);
    await this.store(tx, result);
  }

  /** One pool, or up to 200 for PoolsReported: read, interpreted and stored together. */
  async pool(
    event: ReceivedEvent<Of<typeof PoolChanges>>,
    context: EventHandlerContext,
  ): Promise<void> {
    const { tx } = context;
    const meta = metaOf(context);
    // A pool of a batch that this consumer cannot read is left out (and logged), not the batch.
    const pools = poolsOf(event, (index, problem) =>
      this.logger.warn(
        `event ${context.envelope.id}: pool ${index} of the report left out: ${problem}`,
      ),
    );
    const ids = pools.map((p) => p.poolId);
    await this.collection.lockObjects(tx, 'pool', ids);
    const known = await this.collection.findPools(tx, ids);
    const observations: Observation[] = [];
    const feed: FeedEntry[] = [];
    const changed = new Map<string, PoolState>();
    for (const data of pools) {
      const result = interpretPool(meta, data, known.get(data.poolId));
      if (result.next) {
        known.set(data.poolId, result.next);
        changed.set(data.poolId, result.next);
      }
      observations.push(...result.observations);
      feed.push(...result.feed);
    }
    await this.collection.savePools(tx, [...changed.values()]);
    await this.store(tx, { observations, feed });
  }

  async allocation(
    event: ReceivedEvent<Of<typeof AllocationChanges>>,
    context: EventHandlerContext,
  ): Promise<void> {
    const { tx } = context;
    const data = event.data;
    await this.collection.lockObject(tx, 'allocation', data.allocationId);
    // When the allocation began: every event of it says so (older producers only on creation), so
    // a task's `running` handled before its AllocationCreated (a redelivery overtaken by the next
    // event) is still timed. The row is written once; the first event to arrive writes it.
    const createdAt =
      data.createdAt ??
      (event.type === 'cinode.resource.allocation.created' ? data.changedAt : undefined);
    if (createdAt)
      await this.collection.recordAllocation(tx, data.allocationId, new Date(createdAt));
    const seen = await this.collection.findAllocation(tx, data.allocationId);
    const region = await this.collection.poolRegion(tx, data.poolId);
    const result = interpretAllocation(metaOf(context), data, region, seen);
    if (result.running) await this.collection.markRunning(tx, data.allocationId, result.running);
    await this.store(tx, result);
  }

  async market(
    event: ReceivedEvent<Of<typeof MarketChanges>>,
    context: EventHandlerContext,
  ): Promise<void> {
    const { tx } = context;
    const meta = metaOf(context);
    if (event.type === 'cinode.market.demand.submitted') {
      await this.collection.recordDemand(tx, event.data.demandId, new Date(event.data.submittedAt));
      await this.store(tx, interpretDemand(meta, event.data));
      return;
    }
    const submittedAt = await this.collection.demandSubmittedAt(tx, event.data.demandId);
    await this.store(tx, interpretOrder(meta, event.data, submittedAt));
  }

  async identifier(
    event: ReceivedEvent<Of<typeof IdentifierChanges>>,
    context: EventHandlerContext,
  ): Promise<void> {
    await this.store(context.tx, interpretIdentifier(metaOf(context), event.data));
  }
}
