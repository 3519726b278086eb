import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import { CollectionRepository } from '../collection/collection.repository';
import type { RuntimeMonitoringConfig } from '../config';
import { FeedRepository } from '../feed/feed.repository';
import { Periodic } from '@cinode/common';
import { LOCKS, SeriesRepository } from './series.repository';

const FOLD_BATCH = 10_000;
/** Batches one fold round takes at most, so a backlog is worked off in bounded transactions. */
const FOLD_BATCHES_PER_ROUND = 10;
const PRUNE_BATCH = 10_000;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

/**
 * The series' periodic work, on every replica (advisory locks let one at a time fold and sample):
 * staged observations folded into one-minute points with one upsert per batch and the hour and
 * day roll-ups of the buckets they touched recomputed; levels sampled; old points, feed entries and
 * timing rows deleted past their retention.
 */
@Injectable()
export class SeriesWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SeriesWorker.name);
  private readonly tasks: Periodic[];

  constructor(
    private readonly uow: UnitOfWork,
    private readonly series: SeriesRepository,
    private readonly feed: FeedRepository,
    private readonly collection: CollectionRepository,
    @InjectConfig() private readonly config: RuntimeMonitoringConfig,
  ) {
    this.tasks = [
      new Periodic('fold', config.ROLLUP_INTERVAL_MS, () => this.fold(), this.logger),
      new Periodic('sample', config.SAMPLE_INTERVAL_MS, () => this.sample(), this.logger),
      new Periodic('prune', PRUNE_INTERVAL_MS, () => this.prune(), this.logger),
    ];
  }

  onApplicationBootstrap(): void {
    for (const task of this.tasks) task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.tasks.map((task) => task.stop()));
  }

  /** One fold round; answers how many observations it folded (0 when another replica folds). */
  async fold(): Promise<number> {
    return this.uow.run(async (tx) => {
      if (!(await this.series.tryLock(tx, LOCKS.fold))) return 0;
      let total = 0;
      const hours = new Map<number, Date>();
      for (let batch = 0; batch < FOLD_BATCHES_PER_ROUND; batch += 1) {
        const { folded, hours: touched } = await this.series.fold(tx, FOLD_BATCH);
        total += folded;
        for (const hour of touched) hours.set(hour.getTime(), hour);
        if (folded < FOLD_BATCH) break;
      }
      const days = await this.series.rollUp(tx, 'minute', 'hour', [...hours.values()]);
      await this.series.rollUp(tx, 'hour', 'day', days);
      return total;
    });
  }

  /** One sample of the levels (skipped while another replica samples). */
  async sample(at: Date = new Date()): Promise<number> {
    return this.uow.run(async (tx) =>
      (await this.series.tryLock(tx, LOCKS.sample)) ? this.series.sampleLevels(tx, at) : 0,
    );
  }

  async prune(now: number = Date.now()): Promise<void> {
    const cutoffs = [
      ['minute', this.config.MINUTE_RETENTION_DAYS],
      ['hour', this.config.HOUR_RETENTION_DAYS],
      ['day', this.config.DAY_RETENTION_DAYS],
    ] as const;
    for (const [resolution, days] of cutoffs) {
      const before = new Date(now - days * DAY_MS);
      while (
        (await this.uow.run((tx) => this.series.prune(tx, resolution, before, PRUNE_BATCH))) ===
        PRUNE_BATCH
      );
    }
    const feedBefore = new Date(now - this.config.FEED_RETENTION_DAYS * DAY_MS);
    while (
      (await this.uow.run((tx) => this.feed.prune(tx, feedBefore, PRUNE_BATCH))) === PRUNE_BATCH
    );
    await this.uow.run((tx) => this.collection.prune(tx, feedBefore));
  }
}
