import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { UnitOfWork } from '@cinode/database';
import { InjectConfig } from '@cinode/kit';
import { metricsRegistry } from '@cinode/telemetry';
import { Gauge } from 'prom-client';
import type { RuntimeMonitoringConfig } from '../config';
import { Periodic } from '@cinode/common';

const pools = new Gauge({
  name: 'cinode_monitoring_pools',
  help: 'Resource pools by state, region and accelerator, as runtime monitoring last read them (every replica reports the same: aggregate with max).',
  labelNames: ['state', 'region_code', 'accelerator'] as const,
  registers: [metricsRegistry],
});

const capacity = new Gauge({
  name: 'cinode_monitoring_capacity',
  help: 'Capacity of online pools by resource (cpu_cores, gpu_cards, npu_cards, fp16_tflops), amount (total, free) and region.',
  labelNames: ['resource', 'amount', 'region_code'] as const,
  registers: [metricsRegistry],
});

const lastMinute = new Gauge({
  name: 'cinode_monitoring_last_minute',
  help: 'Each business metric over the last complete minute, node-wide: the count of a counter, the mean of a duration (ms) or level.',
  labelNames: ['domain', 'metric'] as const,
  registers: [metricsRegistry],
});

const participants = new Gauge({
  name: 'cinode_monitoring_participants_certified',
  help: 'Certified participants by kind.',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

const alertsFiring = new Gauge({
  name: 'cinode_monitoring_alerts_firing',
  help: 'Alerts firing, by domain and severity.',
  labelNames: ['domain', 'severity'] as const,
  registers: [metricsRegistry],
});

/**
 * The four domains as Prometheus gauges on the service's metrics endpoint, for the chart's Grafana
 * dashboard: refreshed from the database every SAMPLE_INTERVAL_MS (never during a scrape).
 */
@Injectable()
export class BusinessMetrics implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BusinessMetrics.name);
  private readonly task: Periodic;

  constructor(
    private readonly uow: UnitOfWork,
    @InjectConfig() config: RuntimeMonitoringConfig,
  ) {
    this.task = new Periodic(
      'business metrics',
      config.SAMPLE_INTERVAL_MS,
      () => this.refresh(),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  async refresh(): Promise<void> {
    const db = this.uow.manager();
    const poolRows = await db.query<
      { state: string; region_code: string; accelerator: string; n: string }[]
    >(`SELECT state, region_code, accelerator, count(*) AS n FROM pool_state GROUP BY 1, 2, 3`);
    const capacityRows = await db.query<Record<string, string | number>[]>(
      `SELECT region_code,
              sum(cpu_cores_total) AS cpu_cores_total, sum(cpu_cores_free) AS cpu_cores_free,
              sum(gpu_cards_total) AS gpu_cards_total, sum(gpu_cards_free) AS gpu_cards_free,
              sum(npu_cards_total) AS npu_cards_total, sum(npu_cards_free) AS npu_cards_free,
              sum(fp16_tflops_total) AS fp16_tflops_total, sum(fp16_tflops_free) AS fp16_tflops_free
       FROM pool_state WHERE state = 'online' GROUP BY region_code`,
    );
    const minuteRows = await db.query<
      { domain: string; metric: string; kind: string; sum: number; count: string }[]
    >(
      `SELECT domain, metric, min(kind) AS kind, sum(sum) AS sum, sum(count) AS count FROM series_point
       WHERE resolution = 'minute'
         AND bucket_start = date_trunc('minute', now(), 'UTC') - interval '1 minute'
         AND (region_code IN ('', '*') OR kind <> 'gauge')
         AND (accelerator IN ('', '*') OR kind <> 'gauge')
       GROUP BY domain, metric`,
    );
    const participantRows = await db.query<{ kind: string; n: string }[]>(
      `SELECT kind, count(*) AS n FROM participant_seen WHERE state = 'CERTIFIED' GROUP BY kind`,
    );
    const alertRows = await db.query<{ domain: string; severity: string; n: string }[]>(
      `SELECT domain, severity, count(*) AS n FROM alert WHERE resolved_at IS NULL GROUP BY 1, 2`,
    );
    pools.reset();
    for (const r of poolRows)
      pools.set(
        { state: r.state, region_code: r.region_code, accelerator: r.accelerator },
        Number(r.n),
      );
    capacity.reset();
    for (const r of capacityRows)
      for (const resource of ['cpu_cores', 'gpu_cards', 'npu_cards', 'fp16_tflops'])
        for (const amount of ['total', 'free'])
          capacity.set(
            { resource, amount, region_code: String(r.region_code) },
            Number(r[`${resource}_${amount}`]),
          );
    lastMinute.reset();
    for (const r of minuteRows) {
      const count = Number(r.count);
      const value = r.kind === 'counter' ? r.sum : count > 0 ? r.sum / count : 0;
      lastMinute.set({ domain: r.domain, metric: r.metric }, value);
    }
    participants.reset();
    for (const r of participantRows) participants.set({ kind: r.kind }, Number(r.n));
    alertsFiring.reset();
    for (const r of alertRows)
      alertsFiring.set({ domain: r.domain, severity: r.severity }, Number(r.n));
  }
}
