import { Injectable } from '@nestjs/common';
import { FieldChecks, PageTokens, resolvePageSize } from '@cinode/common';
import type { QuerySeriesRequest } from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { KNOWN_DOMAINS, domainName, resolutionName } from '../api/monitoring.mapper';
import { checkDimension, timeRange } from '../api/request-checks';
import { METRICS, isMetricName } from './metrics';
import {
  SeriesRepository,
  type SeriesPointRow,
  type SeriesPosition,
  type SeriesQuery,
} from './series.repository';

const HOUR_MS = 3_600_000;
const MAX_SPAN_MS = 400 * 24 * HOUR_MS;
/** Points read per round when a query is exported whole. */
const EXPORT_PAGE = 1_000;

/** Reads the series: one page for QuerySeries, every page in turn for ExportCsv. */
@Injectable()
export class SeriesService {
  constructor(
    private readonly series: SeriesRepository,
    private readonly pageTokens: PageTokens,
  ) {}

  /** The request as a query; INVALID_ARGUMENT naming each bad field (prefixed for ExportCsv). */
  queryOf(request: QuerySeriesRequest, prefix = ''): SeriesQuery {
    const checks = new FieldChecks();
    const domain = domainName(request.domain);
    if (!domain) checks.enumValue(`${prefix}domain`, request.domain, KNOWN_DOMAINS);
    const resolution = resolutionName(request.resolution);
    if (!resolution) checks.add(`${prefix}resolution`, `unknown value ${request.resolution}`);
    if (request.metric !== '') {
      if (!isMetricName(request.metric))
        checks.add(`${prefix}metric`, 'is not a metric monitoring keeps');
      else if (domain && METRICS[request.metric].domain !== domain)
        checks.add(`${prefix}metric`, `is not a metric of domain ${domain}`);
    }
    checkDimension(checks, `${prefix}region_code`, request.regionCode, 'region');
    checkDimension(checks, `${prefix}accelerator`, request.accelerator, 'name');
    checkDimension(checks, `${prefix}service`, request.service, 'name');
    const { start, end } = timeRange(
      checks,
      prefix,
      request.startTime,
      request.endTime,
      HOUR_MS,
      MAX_SPAN_MS,
    );
    checks.throwIfAny();
    return {
      resolution: resolution ?? 'minute',
      domain: domain ?? '',
      metric: request.metric || undefined,
      regionCode: request.regionCode || undefined,
      accelerator: request.accelerator || undefined,
      service: request.service || undefined,
      start,
      end,
    };
  }

  async page(
    request: QuerySeriesRequest,
  ): Promise<{ points: SeriesPointRow[]; nextPageToken: string }> {
    const query = this.queryOf(request);
    const limit = resolvePageSize(request.pageSize);
    const filterKey = filterKeyOf(query, request);
    const position = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.series.query(query, position && positionOf(position), limit);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (p) => ({
        after: JSON.stringify([p.metric, p.regionCode, p.accelerator, p.service, p.kindLabel]),
        afterId: p.bucketStart.toISOString(),
      }),
      filterKey,
    );
    return { points: page, nextPageToken };
  }

  /** Every point of the query, page by page (keyset), as the reader asks for them. */
  async *all(query: SeriesQuery): AsyncGenerator<SeriesPointRow> {
    let after: SeriesPosition | undefined;
    for (;;) {
      const rows = await this.series.query(query, after, EXPORT_PAGE);
      yield* rows;
      if (rows.length < EXPORT_PAGE) return;
      const last = rows[rows.length - 1];
      after = {
        key: [last.metric, last.regionCode, last.accelerator, last.service, last.kindLabel],
        bucketStart: last.bucketStart.toISOString(),
      };
    }
  }
}

/** Binds page tokens to the query as the caller wrote it (a defaulted end moves with the clock). */
function filterKeyOf(query: SeriesQuery, request: QuerySeriesRequest): string {
  return `series:${JSON.stringify([
    query.resolution,
    query.domain,
    query.metric ?? '',
    query.regionCode ?? '',
    query.accelerator ?? '',
    query.service ?? '',
    request.startTime ?? null,
    request.endTime ?? null,
  ])}`;
}

function positionOf(position: { after: string; afterId: string }): SeriesPosition {
  // The token is signed by this service, so its content is what pageOf wrote.
  const key = JSON.parse(position.after) as SeriesPosition['key'];
  return { key, bucketStart: position.afterId };
}
