import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import { CollectionRepository } from '../collection/collection.repository';
import type { RuntimeMonitoringConfig, ScrapeTarget } from '../config';
import { observe, type Observation } from '../series/metrics';
import { Periodic } from '@cinode/common';
import { SeriesRepository } from '../series/series.repository';
import { apiTotalsOf, increment, type ApiTotals } from './prometheus-text';

const SCRAPE_LOCK = 'monitoring.scrape';
const COUNTERS = ['calls', 'errors', 'seconds'] as const;

/** One read of a service's endpoint: its totals, or undefined when it did not answer. */
export interface ScrapeResult {
  service: string;
  totals: ApiTotals | undefined;
}

/**
 * Platform business from the services' own Prometheus endpoints (SCRAPE_TARGETS): whether each
 * answered (availability), and the increments of its API calls, server-side errors and handling
 * time since the last read (kept in scrape_state, so another replica continues where this one
 * stopped). One replica at a time stores a round.
 */
@Injectable()
export class MetricsScraper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MetricsScraper.name);
  private readonly task: Periodic;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly series: SeriesRepository,
    private readonly collection: CollectionRepository,
    @InjectConfig() private readonly config: RuntimeMonitoringConfig,
  ) {
    this.task = new Periodic('scrape', config.SCRAPE_INTERVAL_MS, () => this.scrape(), this.logger);
  }

  onApplicationBootstrap(): void {
    if (this.config.SCRAPE_TARGETS.length > 0) this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  async scrape(at: Date = new Date()): Promise<number> {
    const results = await Promise.all(this.config.SCRAPE_TARGETS.map((t) => this.read(t)));
    return this.uow.run(async (tx) => {
      if (!(await this.series.tryLock(tx, SCRAPE_LOCK))) return 0;
      const observations = await this.observations(tx, results, at);
      await this.collection.stage(tx, observations);
      return observations.length;
    });
  }

  private async read(target: ScrapeTarget): Promise<ScrapeResult> {
    try {
      const response = await fetch(target.url, {
        signal: AbortSignal.timeout(this.config.SCRAPE_TIMEOUT_MS),
      });
      if (!response.ok) return { service: target.service, totals: undefined };
      return { service: target.service, totals: apiTotalsOf(await response.text()) };
    } catch {
      return { service: target.service, totals: undefined };
    }
  }

  private async observations(
    tx: Tx,
    results: readonly ScrapeResult[],
    at: Date,
  ): Promise<Observation[]> {
    const rows = await tx.manager.query<{ service: string; counter: string; value: number }[]>(
      `SELECT service, counter, value FROM scrape_state`,
    );
    const previous = new Map(rows.map((r) => [`${r.service}/${r.counter}`, r.value]));
    const observations: Observation[] = [];
    const state: unknown[] = [];
    for (const { service, totals } of results) {
      const dims = { service };
      observations.push(observe('service_up', dims, at, totals ? 1 : 0));
      if (!totals) continue;
      const delta = (counter: (typeof COUNTERS)[number]): number =>
        increment(previous.get(`${service}/${counter}`), totals[counter]);
      const calls = delta('calls');
      observations.push(observe('api_calls', dims, at, calls));
      observations.push(observe('api_errors', dims, at, delta('errors')));
      if (calls > 0)
        observations.push(observe('api_latency_ms', dims, at, delta('seconds') * 1000, calls));
      for (const counter of COUNTERS) state.push(service, counter, totals[counter]);
    }
    if (state.length > 0) {
      const tuples = Array.from(
        { length: state.length / 3 },
        (_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3}::float8, now())`,
      );
      await tx.manager.query(
        `INSERT INTO scrape_state (service, counter, value, read_at) VALUES ${tuples.join(', ')}
         ON CONFLICT (service, counter) DO UPDATE SET value = excluded.value, read_at = excluded.read_at`,
        state,
      );
    }
    return observations;
  }
}
