import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { UnitOfWork, type NotificationListener } from '@cinode/database';
import { FEED_CHANNEL } from './feed.repository';

/**
 * Wakes the open feeds of this process when any replica commits feed entries (Postgres NOTIFY on
 * FEED_CHANNEL); the feeds also look on their own every FEED_POLL_MS, so a lost notification only
 * delays an entry, never loses it.
 */
@Injectable()
export class FeedNotifier implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FeedNotifier.name);
  private listener: NotificationListener | undefined;
  private waiters = new Set<() => void>();

  constructor(private readonly uow: UnitOfWork) {}

  async onApplicationBootstrap(): Promise<void> {
    this.listener = this.uow.listen(FEED_CHANNEL, 5_000, {
      notified: () => this.wakeAll(),
      listening: () => this.wakeAll(),
      lost: () => this.logger.warn('feed notifications lost; open feeds poll until they return'),
    });
    await this.listener.start();
  }

  /** Before the database closes, so the listener's connection is not mourned as lost. */
  async beforeApplicationShutdown(): Promise<void> {
    this.wakeAll();
    await this.listener?.stop();
  }

  /** Resolves at the next notification, after `timeoutMs`, or when `signal` aborts. */
  next(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      this.waiters.add(done);
    });
  }

  private wakeAll(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
