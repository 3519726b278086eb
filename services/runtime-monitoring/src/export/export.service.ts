import { Injectable } from '@nestjs/common';
import { FieldChecks } from '@cinode/common';
import type { ExportCsvRequest } from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { valueOf } from '../alerts/rule-evaluation';
import { FeedService } from '../feed/feed.service';
import type { FeedFilter } from '../feed/feed.repository';
import { SeriesService } from '../series/series.service';
import type { SeriesQuery } from '../series/series.repository';
import { chunked, csvRecord } from './csv';

const SERIES_HEADER = [
  'domain',
  'metric',
  'kind',
  'region_code',
  'accelerator',
  'service',
  'kind_label',
  'bucket_start',
  'value',
  'count',
  'sum',
  'min',
  'max',
  'last',
];
const EVENTS_HEADER = [
  'cursor',
  'event_id',
  'domain',
  'type',
  'region_code',
  'object_id',
  'summary',
  'occurred_at',
  'recorded_at',
];

type Plan = { kind: 'series'; query: SeriesQuery } | { kind: 'events'; filter: FeedFilter };

/** ExportCsv: a query's rows as CSV, read page by page while the caller takes the chunks. */
@Injectable()
export class ExportService {
  constructor(
    private readonly series: SeriesService,
    private readonly feed: FeedService,
  ) {}

  /** Checks the request before the stream starts (INVALID_ARGUMENT names `series.` fields etc.). */
  planOf(request: ExportCsvRequest): Plan {
    if (request.series)
      return { kind: 'series', query: this.series.queryOf(request.series, 'series.') };
    if (request.events)
      return { kind: 'events', filter: this.feed.filterOf(request.events, 'events.') };
    new FieldChecks().add('query', 'is required: series or events').throwIfAny();
    throw new Error('unreachable');
  }

  csv(plan: Plan): AsyncGenerator<{ chunk: Buffer; rows: number }> {
    return chunked(
      plan.kind === 'series' ? this.seriesRecords(plan.query) : this.eventRecords(plan.filter),
    );
  }

  private async *seriesRecords(query: SeriesQuery): AsyncGenerator<string> {
    yield csvRecord(SERIES_HEADER);
    for await (const p of this.series.all(query))
      yield csvRecord([
        p.domain,
        p.metric,
        p.kind,
        p.regionCode,
        p.accelerator,
        p.service,
        p.kindLabel,
        p.bucketStart.toISOString(),
        valueOf(p),
        p.count,
        p.sum,
        p.min,
        p.max,
        p.last,
      ]);
  }

  private async *eventRecords(filter: FeedFilter): AsyncGenerator<string> {
    yield csvRecord(EVENTS_HEADER);
    for await (const e of this.feed.all(filter))
      yield csvRecord([
        e.cursor,
        e.eventId,
        e.domain,
        e.type,
        e.regionCode,
        e.objectId,
        e.summary,
        e.occurredAt.toISOString(),
        e.recordedAt.toISOString(),
      ]);
  }
}
