import { Injectable } from '@nestjs/common';
import { FieldChecks, PageTokens, resolvePageSize } from '@cinode/common';
import { InjectConfig } from '@cinode/kit';
import {
  Domain,
  type ListEventsRequest,
  type WatchFeedRequest,
} from '@cinode/proto/gen/cinode/monitoring/v1/monitoring_service';
import { KNOWN_DOMAINS, dateOf, domainName } from '../api/monitoring.mapper';
import { checkDimension } from '../api/request-checks';
import type { RuntimeMonitoringConfig } from '../config';
import { FeedNotifier } from './feed-notifier';
import { FeedRepository, type FeedFilter, type FeedRow } from './feed.repository';

/** Rows one read of the feed takes. */
const READ_BATCH = 500;
const LIST_FILTER = 'feed';

/** The feed: pages for ListEvents, every entry for ExportCsv, and the live WatchFeed. */
@Injectable()
export class FeedService {
  constructor(
    private readonly feed: FeedRepository,
    private readonly notifier: FeedNotifier,
    private readonly pageTokens: PageTokens,
    @InjectConfig() private readonly config: RuntimeMonitoringConfig,
  ) {}

  /** The request's filter; INVALID_ARGUMENT naming each bad field (prefixed for ExportCsv). */
  filterOf(request: ListEventsRequest, prefix = ''): FeedFilter {
    const checks = new FieldChecks();
    const filter = this.commonFilter(checks, prefix, request.domain, request.regionCode);
    checks.timestamp(`${prefix}start_time`, request.startTime, { required: false });
    checks.timestamp(`${prefix}end_time`, request.endTime, { required: false });
    if (checks.ok) {
      filter.start = dateOf(request.startTime);
      filter.end = dateOf(request.endTime);
      if (filter.start && filter.end && filter.start >= filter.end)
        checks.add(`${prefix}start_time`, 'must be before end_time');
    }
    checks.throwIfAny();
    return filter;
  }

  async page(request: ListEventsRequest): Promise<{ events: FeedRow[]; nextPageToken: string }> {
    const filter = this.filterOf(request);
    const limit = resolvePageSize(request.pageSize);
    const filterKey = `${LIST_FILTER}:${JSON.stringify([filter.domain ?? '', filter.regionCode ?? '', request.startTime ?? null, request.endTime ?? null])}`;
    const position = this.pageTokens.decode(request.pageToken, filterKey);
    const rows = await this.feed.after(position ? Number(position.after) : 0, filter, limit + 1);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (row) => ({ after: String(row.cursor), afterId: '' }),
      filterKey,
    );
    return { events: page, nextPageToken };
  }

  /** Every entry matching the filter, by cursor, read a batch at a time. */
  async *all(filter: FeedFilter): AsyncGenerator<FeedRow> {
    let cursor = 0;
    for (;;) {
      const rows = await this.feed.after(cursor, filter, READ_BATCH);
      yield* rows;
      if (rows.length < READ_BATCH) return;
      cursor = rows[rows.length - 1].cursor;
    }
  }

  /** Checks a WatchFeed request before the stream starts. */
  watchFilterOf(request: WatchFeedRequest): FeedFilter {
    const checks = new FieldChecks();
    if (!Number.isSafeInteger(request.afterCursor) || request.afterCursor < 0)
      checks.add('after_cursor', 'must be 0 or a cursor the feed returned');
    const filter = this.commonFilter(checks, '', request.domain, request.regionCode);
    checks.throwIfAny();
    return filter;
  }

  /**
   * The live feed after `afterCursor`, until `signal` aborts. Each round reads the committed head
   * first, then the matching entries up to it: entries commit in cursor order, so every entry at or
   * below that head is visible, and the next round can start from the head even when the filter
   * matched none of them.
   */
  async *watch(
    afterCursor: number,
    filter: FeedFilter,
    signal: AbortSignal,
  ): AsyncGenerator<FeedRow> {
    let cursor = afterCursor;
    while (!signal.aborted) {
      const head = await this.feed.head();
      let full = false;
      if (head > cursor) {
        const rows = await this.feed.after(cursor, { ...filter, upTo: head }, READ_BATCH);
        for (const row of rows) {
          if (signal.aborted) return;
          yield row;
          cursor = row.cursor;
        }
        full = rows.length === READ_BATCH;
        if (!full) cursor = head;
      }
      if (!full) await this.notifier.next(this.config.FEED_POLL_MS, signal);
    }
  }

  private commonFilter(
    checks: FieldChecks,
    prefix: string,
    domain: Domain,
    regionCode: string,
  ): FeedFilter {
    const name = domain === Domain.DOMAIN_UNSPECIFIED ? undefined : domainName(domain);
    if (domain !== Domain.DOMAIN_UNSPECIFIED && !name)
      checks.enumValue(`${prefix}domain`, domain, KNOWN_DOMAINS);
    checkDimension(checks, `${prefix}region_code`, regionCode, 'region');
    return { domain: name, regionCode: regionCode || undefined };
  }
}
