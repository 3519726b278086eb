/** Where a failed round is reported (a Nest Logger, for one). */
export interface RoundLogger {
  error(message: unknown, ...rest: unknown[]): void;
}

/**
 * A task run every `intervalMs`, never two rounds at once; a failed round is logged and the next
 * one runs as planned. `stop()` waits for the round in flight.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly round: () => Promise<unknown>,
    private readonly logger: RoundLogger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs a round now (or waits for the one in flight); for tests and shutdown. */
  runOnce(): Promise<void> {
    this.running ??= this.round()
      .then(() => undefined)
      .catch((error: unknown) =>
        this.logger.error({ err: error }, `${this.name} failed; retried next interval`),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
