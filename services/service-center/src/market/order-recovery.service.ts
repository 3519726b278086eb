import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectConfig } from '@cinode/kit';
import type { ServiceCenterConfig } from '../config';
import { MarketService } from './market.service';

/**
 * Finishes orders whose PlaceOrder call failed half-way (the service center restarted, or a peer
 * was down and the caller gave up): each is resumed as a retry would, so an acknowledged order is
 * never left PLACING. Gives back the pool holds of cancelled and refused orders when resource
 * aggregation could not be told at the time, and the dedicated-line bandwidth of ended orders
 * when compute selection could not be.
 */
@Injectable()
export class OrderRecoveryService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrderRecoveryService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly market: MarketService,
    @InjectConfig() private readonly config: ServiceCenterConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.ORDER_RECOVERY_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => void this.recover(), this.config.ORDER_RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass at a time per replica. */
  recover(): Promise<void> {
    this.running ??= (async () => {
      try {
        const resumed = await this.market.resumeUnfinished();
        if (resumed > 0) this.logger.log(`resumed ${resumed} orders left placing`);
        const holds = await this.market.releaseEndedHolds();
        if (holds > 0) this.logger.log(`gave back the holds of ${holds} ended orders`);
        const released = await this.market.releaseEndedLines();
        if (released > 0)
          this.logger.log(`gave back the line bandwidth of ${released} ended orders`);
      } catch (error) {
        this.logger.error({ err: error }, 'resuming unfinished orders failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
