import { Injectable, OnModuleInit } from '@nestjs/common';
import { IdentifierChanges, PoolSuspended, type ReceivedEvent } from '@cinode/contracts';
import { filingAfter } from '@cinode/identifier-client';
import {
  EventConsumerRegistry,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import { POOL_IDENTIFIER } from '../pools/pool-input';
import { poolEvent } from '../pools/pool-view';
import { PoolsRepository } from '../pools/pools.repository';

export const IDENTIFIER_CONSUMER = 'resource-identifiers';

type IdentifierContract = (typeof IdentifierChanges.events)[number];

/**
 * Makes pools follow their identifiers: selectable once the national node accepted the filing, out
 * of selection while suspended or once retired. An identifier's events apply newest version first
 * (a late or repeated one changes nothing), and are recorded even before the pool row exists (a
 * filing can be accepted before the registration that asked for it has committed here).
 */
@Injectable()
export class IdentifierEventsConsumer implements OnModuleInit {
  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly pools: PoolsRepository,
  ) {}

  definition(): ConsumerDefinition<IdentifierContract> {
    return {
      name: IDENTIFIER_CONSUMER,
      source: IdentifierChanges,
      handle: (event, context) => this.handle(event, context),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  async handle(
    event: ReceivedEvent<IdentifierContract>,
    { tx }: EventHandlerContext,
  ): Promise<void> {
    const filing = filingAfter(event.type);
    // Only resource pool identifiers (object type RP) concern this service.
    const identifier = event.data.identifier.toUpperCase();
    if (!filing || !POOL_IDENTIFIER.test(identifier)) return;
    await this.pools.lockIdentifier(tx, identifier);
    if (!(await this.pools.recordFiling(tx, identifier, filing, event.data.version))) return;
    const pool = await this.pools.setFiling(tx, identifier, filing, new Date());
    if (pool) await tx.emit(poolEvent(pool, filing === 'suspended' ? PoolSuspended : undefined));
  }
}
