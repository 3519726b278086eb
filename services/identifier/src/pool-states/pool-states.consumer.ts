import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { PoolChanges, poolsOf, type PoolData, type ReceivedEvent } from '@cinode/contracts';
import {
  EventConsumerRegistry,
  type ConsumerDefinition,
  type EventHandlerContext,
} from '@cinode/events';
import { PoolStatesRepository } from './pool-states.repository';

export const POOL_STATE_CONSUMER = 'identifier-pool-states';

type PoolContract = (typeof PoolChanges.events)[number];

/** Free capacity less what orders hold, never below zero (a snapshot may shrink under holds). */
export function liveStateOf(pool: PoolData, now: Date) {
  const inventory = pool.inventory;
  const net = (free: number, held: number) => Math.max(0, free - held);
  return {
    identifier: pool.poolId.toUpperCase(),
    version: pool.version,
    state: pool.state.toUpperCase(),
    reported: inventory !== null,
    cpuCoresFree: inventory ? net(inventory.cpuCoresFree, pool.held.cpuCores) : 0,
    gpuCardsFree: inventory ? net(inventory.gpuCardsFree, pool.held.gpuCards) : 0,
    npuCardsFree: inventory ? net(inventory.npuCardsFree, pool.held.npuCards) : 0,
    fp16TflopsFree: inventory?.fp16TflopsFree ?? 0,
    fp32TflopsFree: inventory?.fp32TflopsFree ?? 0,
    memoryGibFree: inventory ? net(inventory.memoryGibFree, pool.held.memoryGib) : 0,
    storageGibFree: inventory ? net(inventory.storageGibFree, pool.held.storageGib) : 0,
    lastReportedAt: pool.lastReportedAt === null ? null : new Date(pool.lastReportedAt),
    updatedAt: now,
  };
}

/**
 * Keeps the pools' live states that ResolveIdentifier shows: every pool event carries the whole
 * pool with its version, so the newest version wins and a late or repeated event changes nothing.
 */
@Injectable()
export class PoolStatesConsumer implements OnModuleInit {
  private readonly logger = new Logger(PoolStatesConsumer.name);

  constructor(
    private readonly registry: EventConsumerRegistry,
    private readonly states: PoolStatesRepository,
  ) {}

  definition(): ConsumerDefinition<PoolContract> {
    return {
      name: POOL_STATE_CONSUMER,
      source: PoolChanges,
      handle: (event, context) => this.handle(event, context),
    };
  }

  async onModuleInit(): Promise<void> {
    await this.registry.register(this.definition());
  }

  /**
   * A pool of a PoolsReported batch that is not pool data (a newer producer's value) is left out
   * and logged; the others are stored.
   */
  async handle(event: ReceivedEvent<PoolContract>, { tx }: EventHandlerContext): Promise<void> {
    const now = new Date();
    const pools = poolsOf(event, (index, problem) =>
      this.logger.error(`skipped pool ${index} of a ${event.type} event: ${problem}`),
    );
    await this.states.apply(
      tx,
      pools.map((pool) => liveStateOf(pool, now)),
    );
  }
}
