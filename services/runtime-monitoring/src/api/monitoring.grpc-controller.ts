import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import { currentCall } from '@cinode/kit';
import type {
  DeleteAlertRuleRequest,
  DeleteAlertRuleResponse,
  ExportCsvRequest,
  ExportCsvResponse,
  GetIndicatorsRequest,
  GetIndicatorsResponse,
  ListAlertRulesResponse,
  ListAlertsRequest,
  ListAlertsResponse,
  ListEventsRequest,
  ListEventsResponse,
  PutAlertRuleRequest,
  PutAlertRuleResponse,
  QuerySeriesRequest,
  QuerySeriesResponse,
  WatchFeedRequest,
  WatchFeedResponse,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { AlertsService } from '../alerts/alerts.service';
import { ExportService } from '../export/export.service';
import { FeedService } from '../feed/feed.service';
import { IndicatorsService } from '../indicators/indicators.service';
import { SeriesService } from '../series/series.service';
import { toAlertMessage, toFeedMessage, toPointMessage, toRuleMessage } from './monitoring.mapper';

const SERVICE = 'MonitoringService';
/** Regulators read everything monitoring keeps; operators too. */
const READERS = ['regulator', 'operator'] as const;

/** The call's abort signal (the caller cancelled, or its deadline passed). */
function callSignal(): AbortSignal {
  return currentCall()?.signal ?? new AbortController().signal;
}

/**
 * MonitoringService. The two streaming RPCs check their request before the first message and
 * return an AsyncIterable the kit writes as the caller reads (DirectCallDispatcher.serverStream).
 */
@Controller()
export class MonitoringGrpcController {
  constructor(
    private readonly series: SeriesService,
    private readonly feed: FeedService,
    private readonly exports: ExportService,
    private readonly indicators: IndicatorsService,
    private readonly alerts: AlertsService,
  ) {}

  @GrpcMethod(SERVICE, 'QuerySeries')
  @AllowRoles(...READERS)
  @ReadOnly()
  async querySeries(request: QuerySeriesRequest): Promise<QuerySeriesResponse> {
    const { points, nextPageToken } = await this.series.page(request);
    return { points: points.map(toPointMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'ListEvents')
  @AllowRoles(...READERS)
  @ReadOnly()
  async listEvents(request: ListEventsRequest): Promise<ListEventsResponse> {
    const { events, nextPageToken } = await this.feed.page(request);
    return { events: events.map(toFeedMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'WatchFeed')
  @AllowRoles(...READERS)
  @ReadOnly()
  watchFeed(request: WatchFeedRequest): AsyncIterable<WatchFeedResponse> {
    const filter = this.feed.watchFilterOf(request);
    const rows = this.feed.watch(request.afterCursor, filter, callSignal());
    return (async function* () {
      for await (const row of rows) yield { event: toFeedMessage(row) };
    })();
  }

  @GrpcMethod(SERVICE, 'ExportCsv')
  @AllowRoles(...READERS)
  @ReadOnly()
  exportCsv(request: ExportCsvRequest): AsyncIterable<ExportCsvResponse> {
    return this.exports.csv(this.exports.planOf(request));
  }

  @GrpcMethod(SERVICE, 'GetIndicators')
  @AllowRoles(...READERS)
  @ReadOnly()
  getIndicators(request: GetIndicatorsRequest): Promise<GetIndicatorsResponse> {
    return this.indicators.indicators(request);
  }

  @GrpcMethod(SERVICE, 'ListAlertRules')
  @AllowRoles(...READERS)
  @ReadOnly()
  async listAlertRules(): Promise<ListAlertRulesResponse> {
    return { rules: (await this.alerts.rules()).map(toRuleMessage) };
  }

  @GrpcMethod(SERVICE, 'PutAlertRule')
  @AllowRoles('operator')
  @Audited('alert_rule', 'rule.ruleId')
  async putAlertRule(
    request: PutAlertRuleRequest,
    metadata: Metadata,
  ): Promise<PutAlertRuleResponse> {
    return { rule: toRuleMessage(await this.alerts.put(callerOf(metadata), request)) };
  }

  @GrpcMethod(SERVICE, 'DeleteAlertRule')
  @AllowRoles('operator')
  @Audited('alert_rule', 'ruleId')
  async deleteAlertRule(
    request: DeleteAlertRuleRequest,
    metadata: Metadata,
  ): Promise<DeleteAlertRuleResponse> {
    await this.alerts.delete(callerOf(metadata), request);
    return {};
  }

  @GrpcMethod(SERVICE, 'ListAlerts')
  @AllowRoles(...READERS)
  @ReadOnly()
  async listAlerts(request: ListAlertsRequest): Promise<ListAlertsResponse> {
    const { alerts, nextPageToken } = await this.alerts.list(
      request.firingOnly,
      request.pageSize,
      request.pageToken,
    );
    return { alerts: alerts.map(toAlertMessage), nextPageToken };
  }
}
