/**
 * A wait that can be cut short: `wake()` ends the wait in progress at once (a loop's pause between
 * attempts, when it is stopped or has work again). One wait at a time; a wake with none in
 * progress does nothing.
 */
export class WakeableDelay {
  private current: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.current === done) this.current = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.current = done;
    });
  }

  wake(): void {
    this.current?.();
  }
}
