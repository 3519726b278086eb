import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Periodic } from '@cinode/common';
import { InjectConfig } from '@cinode/kit';
import type { ComputeSelectionConfig } from '../config';
import { LineHoldsService } from './line-holds.service';

/** Holds expired per round at most (their lines one transaction each). */
const BATCH = 500;

/**
 * Expires line holds never confirmed within their TTL, on every replica (each line under its row
 * lock, so two replicas never give the same bandwidth back twice). Confirmed ones last until their
 * holder releases them.
 */
@Injectable()
export class LineHoldSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LineHoldSweeper.name);
  private readonly task: Periodic;

  constructor(
    private readonly holds: LineHoldsService,
    @InjectConfig() config: Pick<ComputeSelectionConfig, 'LINE_HOLD_SWEEP_INTERVAL_MS'>,
  ) {
    this.task = new Periodic(
      'line hold sweep',
      config.LINE_HOLD_SWEEP_INTERVAL_MS,
      () => this.sweep(),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  async sweep(): Promise<number> {
    const expired = await this.holds.expireDue(BATCH);
    if (expired > 0) this.logger.log(`expired ${expired} line hold(s)`);
    return expired;
  }
}
