import { LOWER_CASE_UUID } from '@cinode/common';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import {
  AllocationChanges,
  type OrderStateName,
  type ReceivedEvent,
  type TaskStateName,
} from '@cinode/contracts';
import {
  EventConsumerRegistry,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import { MarketService } from './market.service';

export const ALLOCATION_CONSUMER = 'market-allocations';

type AllocationContract = (typeof AllocationChanges.events)[number];

/** The order state each task state means. */
const ORDER_STATE_OF_TASK: Readonly<Record<TaskStateName, OrderStateName>> = {
  pending: 'confirmed',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * Makes orders follow the tasks their providers run: an allocation's events (its order reference
 * is the order's id) move the order to running, completed, failed or cancelled, newest version
 * first; a late or repeated event changes nothing, and holds placed by others (operators) are not
 * orders and are skipped.
 */
@Injectable()
export class AllocationEventsConsumer implements OnModuleInit {
  private readonly logger = new Logger(AllocationEventsConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly market: MarketService,
  ) {}

  definition(): ConsumerDefinition<AllocationContract> {
    return {
      name: ALLOCATION_CONSUMER,
      source: AllocationChanges,
      handle: (event, context) => this.handle(event, context),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  async handle(
    event: ReceivedEvent<AllocationContract>,
    { tx }: EventHandlerContext,
  ): Promise<void> {
    const { orderReference, state, detail, version, holdId, poolId } = event.data;
    if (!LOWER_CASE_UUID.test(orderReference)) return;
    const order = await this.market.moveIn(tx, orderReference, ORDER_STATE_OF_TASK[state], detail, {
      holdId,
      poolId,
      version,
    });
    // Its line's bandwidth is given back once the order has ended, after this commits (no call
    // to another service while the order's rows are locked). Compute selection down must not hold
    // up the events behind this one: the recovery pass tries again later.
    // A refused order (its reseller lapsed before the event could make it active) has its holds
    // given back by moveIn already.
    if (order?.lineHoldId && !order.lineReleasedAt && order.state !== 'refused')
      tx.afterCommit(() => {
        // Not awaited: the next event does not wait for compute selection either.
        void this.market
          .releaseLineOfEnded(order)
          .catch((error: unknown) =>
            this.logger.warn(
              { err: error, orderId: order.id },
              "could not give back the ended order's line bandwidth; the recovery pass will",
            ),
          );
      });
  }
}
