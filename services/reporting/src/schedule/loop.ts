import { Logger } from '@nestjs/common';
import { WakeableDelay } from '@cinode/common';

/**
 * Runs `round` every `intervalMs` until stopped; a failing round is logged and the loop goes on.
 * `wake()` starts the next round at once (after a report is built or queued again).
 */
export class BackgroundLoop {
  private stopping = false;
  private running: Promise<void> | undefined;
  private readonly delay = new WakeableDelay();
  private woken = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  wake(): void {
    this.woken = true;
    this.delay.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.delay.wake();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      try {
        await this.round();
      } catch (error) {
        this.logger.error(
          `${this.name} round failed: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
      if (!this.stopping && !this.woken) await this.delay.wait(this.intervalMs);
    }
  }
}
