import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import type { FeedEntry } from './feed-entry';

/** The channel a commit of new feed entries is announced on (payload: the last cursor). */
export const FEED_CHANNEL = 'monitoring_feed';

export interface FeedFilter {
  domain?: string;
  regionCode?: string;
  /** occurred_at >= start */
  start?: Date;
  /** occurred_at < end */
  end?: Date;
  /** cursor <= upTo */
  upTo?: number;
}

export interface FeedRow extends FeedEntry {
  cursor: number;
  recordedAt: Date;
}

interface RawFeedRow {
  cursor: string;
  event_id: string;
  domain: FeedEntry['domain'];
  type: string;
  region_code: string;
  object_id: string;
  summary: string;
  occurred_at: Date;
  recorded_at: Date;
}

const COLUMNS = 9;

function toRow(raw: RawFeedRow): FeedRow {
  return {
    cursor: Number(raw.cursor),
    eventId: raw.event_id,
    domain: raw.domain,
    type: raw.type,
    regionCode: raw.region_code,
    objectId: raw.object_id,
    summary: raw.summary,
    occurredAt: raw.occurred_at,
    recordedAt: raw.recorded_at,
  };
}

/** Every query of the feed. */
@Injectable()
export class FeedRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Appends entries with the next cursors. The head row stays locked until the transaction ends,
   * so transactions that append commit in the order of their cursors: a reader that sees cursor N
   * can never later find a smaller one appear. Call it last in a transaction (the lock is held to
   * its commit).
   */
  async append(tx: Tx, entries: readonly FeedEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const head = await tx.manager.query<{ last_cursor: string }[]>(
      `INSERT INTO feed_head (head_id, last_cursor) VALUES (1, $1)
       ON CONFLICT (head_id) DO UPDATE SET last_cursor = feed_head.last_cursor + $1
       RETURNING last_cursor`,
      [entries.length],
    );
    const first = Number(head[0].last_cursor) - entries.length + 1;
    const values: unknown[] = [];
    const rows = entries.map((e, i) => {
      values.push(
        first + i,
        e.eventId,
        e.domain,
        e.type,
        e.regionCode,
        e.objectId,
        e.summary,
        e.occurredAt,
      );
      const b = i * (COLUMNS - 1);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, now())`;
    });
    await tx.manager.query(
      `INSERT INTO feed_event (cursor, event_id, domain, type, region_code, object_id, summary, occurred_at, recorded_at)
       VALUES ${rows.join(', ')}`,
      values,
    );
    await tx.manager.query(`SELECT pg_notify($1, $2)`, [
      FEED_CHANNEL,
      String(first + entries.length - 1),
    ]);
  }

  /** Entries after `cursor` matching the filter, by cursor. */
  async after(cursor: number, filter: FeedFilter, limit: number): Promise<FeedRow[]> {
    const where: string[] = ['cursor > $1'];
    const values: unknown[] = [cursor];
    if (filter.domain) {
      values.push(filter.domain);
      where.push(`domain = $${values.length}`);
    }
    if (filter.regionCode) {
      values.push(filter.regionCode);
      where.push(`region_code = $${values.length}`);
    }
    if (filter.upTo !== undefined) {
      values.push(filter.upTo);
      where.push(`cursor <= $${values.length}`);
    }
    if (filter.start) {
      values.push(filter.start);
      where.push(`occurred_at >= $${values.length}`);
    }
    if (filter.end) {
      values.push(filter.end);
      where.push(`occurred_at < $${values.length}`);
    }
    values.push(limit);
    const rows = await this.uow
      .manager()
      .query<
        RawFeedRow[]
      >(`SELECT * FROM feed_event WHERE ${where.join(' AND ')} ORDER BY cursor LIMIT $${values.length}`, values);
    return rows.map(toRow);
  }

  /** The last cursor handed out by a committed transaction (0 before the first entry). */
  async head(): Promise<number> {
    const rows = await this.uow
      .manager()
      .query<{ last_cursor: string }[]>(`SELECT last_cursor FROM feed_head WHERE head_id = 1`);
    return rows[0] ? Number(rows[0].last_cursor) : 0;
  }

  async prune(tx: Tx, before: Date, limit: number): Promise<number> {
    const rows = await tx.manager.query<unknown[]>(
      `DELETE FROM feed_event WHERE cursor IN (
         SELECT cursor FROM feed_event WHERE occurred_at < $1 ORDER BY cursor LIMIT $2) RETURNING cursor`,
      [before, limit],
    );
    return rows.length;
  }
}
