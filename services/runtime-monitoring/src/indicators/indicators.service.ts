import { Injectable } from '@nestjs/common';
import { FieldChecks } from '@cinode/common';
import { InjectConfig } from '@cinode/kit';
import type {
  DurationIndicator,
  GetIndicatorsRequest,
  GetIndicatorsResponse,
  ServiceAvailability,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { AlertsRepository } from '../alerts/alerts.repository';
import { timeRange } from '../api/request-checks';
import type { RuntimeMonitoringConfig } from '../config';
import { SeriesRepository, type ResolutionName } from '../series/series.repository';

const DAY_MS = 86_400_000;

/**
 * The regulators' indicators, each derived from the series over the range: availability per
 * service (share of scrapes it answered), task response and demand-to-allocation times, fault
 * discovery and recovery times, utilisation and compute scale (the newest node-wide levels).
 */
@Injectable()
export class IndicatorsService {
  constructor(
    private readonly series: SeriesRepository,
    private readonly alerts: AlertsRepository,
    @InjectConfig() private readonly config: RuntimeMonitoringConfig,
  ) {}

  async indicators(
    request: GetIndicatorsRequest,
    now = Date.now(),
  ): Promise<GetIndicatorsResponse> {
    const checks = new FieldChecks();
    const { start, end } = timeRange(
      checks,
      '',
      request.startTime,
      request.endTime,
      DAY_MS,
      400 * DAY_MS,
    );
    checks.throwIfAny();
    // Minute points while the range is within their retention, hourly roll-ups beyond.
    const resolution: ResolutionName =
      start.getTime() >= now - this.config.MINUTE_RETENTION_DAYS * DAY_MS ? 'minute' : 'hour';
    const byService = async (metric: string) =>
      new Map((await this.series.totals(resolution, metric, start, end)).map((t) => [t.key, t]));
    const [up, calls, errors, latency] = await Promise.all([
      byService('service_up'),
      byService('api_calls'),
      byService('api_errors'),
      byService('api_latency_ms'),
    ]);
    const services: ServiceAvailability[] = [...up.keys()].sort().map((service) => {
      const u = up.get(service);
      const l = latency.get(service);
      return {
        service,
        availability: u && u.count > 0 ? u.sum / u.count : 0,
        upSamples: Math.round(u?.sum ?? 0),
        samples: u?.count ?? 0,
        apiCalls: Math.round(calls.get(service)?.sum ?? 0),
        apiErrors: Math.round(errors.get(service)?.sum ?? 0),
        apiLatencyMeanMs: l && l.count > 0 ? l.sum / l.count : 0,
      };
    });
    const duration = async (metric: string): Promise<DurationIndicator> => {
      const totals = await this.series.totals(resolution, metric, start, end);
      const count = totals.reduce((n, t) => n + t.count, 0);
      const sum = totals.reduce((n, t) => n + t.sum, 0);
      const max = totals.reduce((n, t) => Math.max(n, t.max), 0);
      return { count, meanMs: count > 0 ? sum / count : 0, maxMs: max };
    };
    const level = async (metric: string) =>
      (await this.series.latestLevel(metric, start, end)) ?? 0;
    return {
      services,
      taskResponse: await duration('task_response_ms'),
      demandToAllocation: await duration('demand_to_allocation_ms'),
      faultDiscovery: await duration('fault_discovery_ms'),
      faultRecovery: await duration('fault_recovery_ms'),
      gpuUtilisation: await level('gpu_utilisation'),
      npuUtilisation: await level('npu_utilisation'),
      cpuUtilisation: await level('cpu_utilisation'),
      poolsOnline: Math.round(await level('pools_online')),
      gpuCardsTotal: Math.round(await level('gpu_cards_total')),
      npuCardsTotal: Math.round(await level('npu_cards_total')),
      cpuCoresTotal: Math.round(await level('cpu_cores_total')),
      fp16TflopsTotal: await level('fp16_tflops_total'),
      alertsRaised: await this.alerts.raisedBetween(start, end),
    };
  }
}
