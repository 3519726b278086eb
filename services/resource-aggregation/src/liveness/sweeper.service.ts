import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { PoolOffline, PoolStale, type EventContract, type PoolData } from '@cinode/contracts';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import type { ResourceAggregationConfig } from '../config';
import { AllocationsService } from '../allocations/allocations.service';
import { HoldsService } from '../holds/holds.service';
import { historyKeptSince } from '../inventory/inventory-input';
import { InventoryRepository } from '../inventory/inventory.repository';
import { poolEvent } from '../pools/pool-view';
import type { PoolLiveness } from '../pools/pool.entity';
import { LivenessRepository } from './liveness.repository';

const BATCH = 500;

/**
 * The periodic work of every replica: pools that stopped reporting go STALE, then OFFLINE (each
 * change an event, once, whichever replica makes it); holds past their time expire and give their
 * capacity back; allocations their providers never started fail and give theirs back, and so do
 * cancelled ones whose providers never reported them stopped; history older than the retention
 * is deleted.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SweeperService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly liveness: LivenessRepository,
    private readonly inventory: InventoryRepository,
    private readonly holds: HoldsService,
    private readonly allocations: AllocationsService,
    @InjectConfig() private readonly config: ResourceAggregationConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.error({ err: error }, 'sweep failed; retried next interval'),
        )
        .finally(() => (this.running = undefined));
    }, this.config.SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; public for tests. */
  async sweep(): Promise<{
    stale: number;
    offline: number;
    expired: number;
    unstarted: number;
    stopped: number;
    pruned: number;
  }> {
    // Each step on its own: one that fails (a deadlock, a bad row) is logged and tried again next
    // interval without holding up the others (released capacity above all).
    const stale = await this.step('liveness (stale)', () =>
      this.demoteAll('online', 'stale', this.config.POOL_STALE_AFTER_SECONDS, PoolStale),
    );
    const offline = await this.step('liveness (offline)', () =>
      this.demoteAll('stale', 'offline', this.config.POOL_OFFLINE_AFTER_SECONDS, PoolOffline),
    );
    const expired = await this.step('hold expiry', () => this.holds.expireDue(BATCH));
    const unstarted = await this.step('unstarted allocations', () =>
      this.allocations.failUnstarted(this.config.ALLOCATION_START_TIMEOUT_SECONDS, BATCH),
    );
    const stopped = await this.step('stopped allocations', () =>
      this.holds.releaseStopped(this.config.ALLOCATION_STOP_GRACE_SECONDS, BATCH),
    );
    const pruned = await this.step('history retention', () =>
      this.inventory.prune(historyKeptSince(this.config), 10_000),
    );
    return { stale, offline, expired, unstarted, stopped, pruned };
  }

  /** One step of a sweep: its count, or 0 when it failed (logged; the next sweep tries again). */
  private async step(what: string, run: () => Promise<number>): Promise<number> {
    try {
      return await run();
    } catch (error) {
      this.logger.error({ err: error }, `sweep: ${what} failed; tried again next interval`);
      return 0;
    }
  }

  private async demoteAll(
    from: PoolLiveness,
    to: PoolLiveness,
    afterSeconds: number,
    contract: EventContract<PoolData>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await this.uow.run(async (tx) => {
        const pools = await this.liveness.demote(tx, from, to, afterSeconds, BATCH);
        if (pools.length > 0) await tx.emit(...pools.map((pool) => poolEvent(pool, contract)));
        return pools.length;
      });
      total += moved;
      if (moved < BATCH) return total;
    }
  }
}
