import { Injectable } from '@nestjs/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import type { MetricKindName } from './metrics';

export type ResolutionName = 'minute' | 'hour' | 'day';

export interface SeriesQuery {
  resolution: ResolutionName;
  domain: string;
  metric?: string;
  regionCode?: string;
  accelerator?: string;
  service?: string;
  start: Date;
  end: Date;
}

/** Where a page of points ends: the series key and the bucket of its last point. */
export interface SeriesPosition {
  key: [string, string, string, string, string];
  bucketStart: string;
}

export interface SeriesPointRow {
  resolution: ResolutionName;
  domain: string;
  metric: string;
  regionCode: string;
  accelerator: string;
  service: string;
  kindLabel: string;
  bucketStart: Date;
  kind: MetricKindName;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

interface RawPoint {
  resolution: ResolutionName;
  domain: string;
  metric: string;
  region_code: string;
  accelerator: string;
  service: string;
  kind_label: string;
  bucket_start: Date;
  kind: MetricKindName;
  count: string;
  sum: number;
  min: number;
  max: number;
  last: number;
}

function toPoint(raw: RawPoint): SeriesPointRow {
  return {
    resolution: raw.resolution,
    domain: raw.domain,
    metric: raw.metric,
    regionCode: raw.region_code,
    accelerator: raw.accelerator,
    service: raw.service,
    kindLabel: raw.kind_label,
    bucketStart: raw.bucket_start,
    kind: raw.kind,
    count: Number(raw.count),
    sum: raw.sum,
    min: raw.min,
    max: raw.max,
    last: raw.last,
  };
}

/** Advisory lock keys of the periodic work, so one replica at a time does each. */
export const LOCKS = { fold: 'monitoring.fold', sample: 'monitoring.sample' } as const;

const KEY_COLUMNS = 'domain, metric, region_code, accelerator, service, kind_label';

/** Every query of the series. */
@Injectable()
export class SeriesRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Takes a transaction-scoped advisory lock if it is free; false when another replica holds it. */
  async tryLock(tx: Tx, name: string): Promise<boolean> {
    const rows = await tx.manager.query<{ locked: boolean }[]>(
      `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 20262)) AS locked`,
      [name],
    );
    return rows[0]?.locked === true;
  }

  /**
   * Folds up to `limit` staged observations into one-minute points with one upsert, deleting them
   * in the same statement, and answers the hours the folded points fall in.
   */
  async fold(tx: Tx, limit: number): Promise<{ folded: number; hours: Date[] }> {
    const rows = await tx.manager.query<{ hour: Date; folded: string }[]>(
      `WITH taken AS (
         DELETE FROM observation WHERE observation_id IN (
           SELECT observation_id FROM observation ORDER BY observation_id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING *
       ), upserted AS (
         INSERT INTO series_point (resolution, ${KEY_COLUMNS}, bucket_start, kind, count, sum, min, max, last, last_at)
         SELECT 'minute', ${KEY_COLUMNS}, date_trunc('minute', observed_at, 'UTC'), min(kind),
                sum(weight), sum(value),
                min(CASE WHEN weight > 0 THEN value / weight ELSE value END),
                max(CASE WHEN weight > 0 THEN value / weight ELSE value END),
                (array_agg(CASE WHEN weight > 0 THEN value / weight ELSE value END
                           ORDER BY observed_at DESC, observation_id DESC))[1],
                max(observed_at)
         FROM taken
         GROUP BY ${KEY_COLUMNS}, date_trunc('minute', observed_at, 'UTC')
         ON CONFLICT ON CONSTRAINT pk_series_point DO UPDATE SET
           count = series_point.count + excluded.count,
           sum = series_point.sum + excluded.sum,
           min = LEAST(series_point.min, excluded.min),
           max = GREATEST(series_point.max, excluded.max),
           last = CASE WHEN excluded.last_at >= series_point.last_at THEN excluded.last ELSE series_point.last END,
           last_at = GREATEST(series_point.last_at, excluded.last_at)
         RETURNING bucket_start
       )
       SELECT DISTINCT date_trunc('hour', bucket_start, 'UTC') AS hour,
              (SELECT count(*) FROM taken) AS folded
       FROM upserted`,
      [limit],
    );
    return { folded: Number(rows[0]?.folded ?? 0), hours: rows.map((r) => r.hour) };
  }

  /**
   * Recomputes the points of `coarse` resolution for the given buckets from the `fine` points in
   * them (one statement), and answers the buckets of the next coarser resolution they touch.
   */
  async rollUp(
    tx: Tx,
    fine: ResolutionName,
    coarse: 'hour' | 'day',
    buckets: readonly Date[],
  ): Promise<Date[]> {
    if (buckets.length === 0) return [];
    const rows = await tx.manager.query<{ day: Date }[]>(
      `WITH upserted AS (
         INSERT INTO series_point (resolution, ${KEY_COLUMNS}, bucket_start, kind, count, sum, min, max, last, last_at)
         SELECT $2::varchar, ${KEY_COLUMNS}, date_trunc($4::text, bucket_start, 'UTC'), min(kind),
                sum(count), sum(sum), min(min), max(max),
                (array_agg(last ORDER BY last_at DESC))[1], max(last_at)
         FROM series_point
         WHERE resolution = $1::varchar AND date_trunc($4::text, bucket_start, 'UTC') = ANY($3::timestamptz[])
         GROUP BY ${KEY_COLUMNS}, date_trunc($4::text, bucket_start, 'UTC')
         ON CONFLICT ON CONSTRAINT pk_series_point DO UPDATE SET
           count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
           last = excluded.last, last_at = excluded.last_at
         RETURNING bucket_start
       )
       SELECT DISTINCT date_trunc('day', bucket_start, 'UTC') AS day FROM upserted`,
      [fine, coarse, buckets.map((b) => b.toISOString()), coarse],
    );
    return rows.map((r) => r.day);
  }

  /**
   * Samples the levels of the projections at `at` into observations, one INSERT ... SELECT: pools
   * by state, capacity and utilisation of online pools per region and accelerator and node-wide
   * (`*`), certified participants by kind, active application providers.
   */
  async sampleLevels(tx: Tx, at: Date): Promise<number> {
    const pools = await tx.manager.query<unknown[]>(
      `INSERT INTO observation (domain, metric, kind, region_code, accelerator, service, kind_label, observed_at, value, weight)
       SELECT 'resource', m.metric, 'gauge', g.region_code, g.accelerator, '', '', $1::timestamptz, m.value, 1
       FROM (
         SELECT COALESCE(region_code, '*') AS region_code, COALESCE(accelerator, '*') AS accelerator,
           count(*) FILTER (WHERE state = 'online') AS online,
           count(*) FILTER (WHERE state = 'stale') AS stale,
           count(*) FILTER (WHERE state = 'offline') AS offline,
           count(*) FILTER (WHERE state = 'suspended') AS suspended,
           count(*) FILTER (WHERE state = 'pending_filing') AS pending,
           COALESCE(sum(cpu_cores_total) FILTER (WHERE state = 'online'), 0) AS cpu_total,
           COALESCE(sum(cpu_cores_free) FILTER (WHERE state = 'online'), 0) AS cpu_free,
           COALESCE(sum(gpu_cards_total) FILTER (WHERE state = 'online'), 0) AS gpu_total,
           COALESCE(sum(gpu_cards_free) FILTER (WHERE state = 'online'), 0) AS gpu_free,
           COALESCE(sum(npu_cards_total) FILTER (WHERE state = 'online'), 0) AS npu_total,
           COALESCE(sum(npu_cards_free) FILTER (WHERE state = 'online'), 0) AS npu_free,
           COALESCE(sum(fp16_tflops_total) FILTER (WHERE state = 'online'), 0) AS fp16_total,
           COALESCE(sum(fp16_tflops_free) FILTER (WHERE state = 'online'), 0) AS fp16_free
         FROM pool_state
         GROUP BY GROUPING SETS ((region_code, accelerator), ())
       ) g
       CROSS JOIN LATERAL (VALUES
         ('pools_online', g.online::float8), ('pools_stale', g.stale::float8),
         ('pools_offline', g.offline::float8), ('pools_suspended', g.suspended::float8),
         ('pools_pending_filing', g.pending::float8),
         ('cpu_cores_total', g.cpu_total::float8), ('cpu_cores_free', g.cpu_free::float8),
         ('gpu_cards_total', g.gpu_total::float8), ('gpu_cards_free', g.gpu_free::float8),
         ('npu_cards_total', g.npu_total::float8), ('npu_cards_free', g.npu_free::float8),
         ('fp16_tflops_total', g.fp16_total::float8), ('fp16_tflops_free', g.fp16_free::float8),
         ('cpu_utilisation', CASE WHEN g.cpu_total > 0 THEN 1 - g.cpu_free::float8 / g.cpu_total END),
         ('gpu_utilisation', CASE WHEN g.gpu_total > 0 THEN 1 - g.gpu_free::float8 / g.gpu_total END),
         ('npu_utilisation', CASE WHEN g.npu_total > 0 THEN 1 - g.npu_free::float8 / g.npu_total END)
       ) AS m(metric, value)
       WHERE m.value IS NOT NULL
       RETURNING observation_id`,
      [at],
    );
    const participants = await tx.manager.query<unknown[]>(
      `INSERT INTO observation (domain, metric, kind, region_code, accelerator, service, kind_label, observed_at, value, weight)
       SELECT 'platform', 'participants_certified_now', 'gauge', '', '', '', kind, $1::timestamptz,
              count(*) FILTER (WHERE state = 'CERTIFIED'), 1
       FROM participant_seen GROUP BY kind
       UNION ALL
       SELECT 'application', 'application_providers_active', 'gauge', '', '', '', '', $1::timestamptz,
              count(*) FILTER (WHERE kind = 'APPLICATION_PROVIDER' AND state = 'CERTIFIED'), 1
       FROM participant_seen
       RETURNING observation_id`,
      [at],
    );
    return pools.length + participants.length;
  }

  /** One page of points, by series key and bucket, after `position`. */
  async query(
    query: SeriesQuery,
    after: SeriesPosition | undefined,
    limit: number,
  ): Promise<SeriesPointRow[]> {
    const values: unknown[] = [query.resolution, query.domain, query.start, query.end];
    const where = ['resolution = $1', 'domain = $2', 'bucket_start >= $3', 'bucket_start < $4'];
    const filter = (column: string, value: string | undefined): void => {
      if (!value) return;
      values.push(value);
      where.push(`${column} = $${values.length}`);
    };
    filter('metric', query.metric);
    filter('region_code', query.regionCode);
    filter('accelerator', query.accelerator);
    filter('service', query.service);
    if (after) {
      values.push(...after.key, after.bucketStart);
      const n = values.length;
      where.push(
        `(metric, region_code, accelerator, service, kind_label, bucket_start) > ($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n}::timestamptz)`,
      );
    }
    values.push(limit);
    const rows = await this.uow.manager().query<RawPoint[]>(
      `SELECT * FROM series_point WHERE ${where.join(' AND ')}
         ORDER BY metric, region_code, accelerator, service, kind_label, bucket_start
         LIMIT $${values.length}`,
      values,
    );
    return rows.map(toPoint);
  }

  /**
   * Totals of one metric over a range: count, sum, min and max over its points (any dimensions
   * matching), at one resolution.
   */
  async totals(
    resolution: ResolutionName,
    metric: string,
    start: Date,
    end: Date,
    dims: { regionCode?: string } = {},
  ): Promise<{ key: string; count: number; sum: number; max: number }[]> {
    const values: unknown[] = [resolution, metric, start, end];
    const where = ['resolution = $1', 'metric = $2', 'bucket_start >= $3', 'bucket_start < $4'];
    if (dims.regionCode !== undefined) {
      values.push(dims.regionCode);
      where.push(`region_code = $${values.length}`);
    }
    const rows = await this.uow
      .manager()
      .query<{ key: string; count: string; sum: number | null; max: number | null }[]>(
        `SELECT service AS key, sum(count) AS count, sum(sum) AS sum, max(max) AS max
       FROM series_point WHERE ${where.join(' AND ')} GROUP BY service`,
        values,
      );
    return rows.map((r) => ({
      key: r.key,
      count: Number(r.count),
      sum: r.sum ?? 0,
      max: r.max ?? 0,
    }));
  }

  /** The newest sample of a node-wide (`*`) level in the range. */
  async latestLevel(metric: string, start: Date, end: Date): Promise<number | undefined> {
    const rows = await this.uow.manager().query<{ last: number }[]>(
      `SELECT last FROM series_point
       WHERE resolution = 'minute' AND metric = $1 AND region_code = '*' AND accelerator = '*'
         AND bucket_start >= $2 AND bucket_start < $3
       ORDER BY bucket_start DESC LIMIT 1`,
      [metric, start, end],
    );
    return rows[0]?.last;
  }

  /** One-minute values of a metric's series since `since`, for the alert rules. */
  async recentMinutes(
    metric: string,
    since: Date,
    dims: { regionCode: string; accelerator: string; service: string },
  ): Promise<SeriesPointRow[]> {
    const values: unknown[] = [metric, since];
    const where = [`resolution = 'minute'`, 'metric = $1', 'bucket_start >= $2'];
    for (const [column, value] of [
      ['region_code', dims.regionCode],
      ['accelerator', dims.accelerator],
      ['service', dims.service],
    ] as const) {
      if (!value) continue;
      values.push(value);
      where.push(`${column} = $${values.length}`);
    }
    const rows = await this.uow
      .manager()
      .query<
        RawPoint[]
      >(`SELECT * FROM series_point WHERE ${where.join(' AND ')} ORDER BY bucket_start`, values);
    return rows.map(toPoint);
  }

  /** Deletes points of `resolution` older than `before`, at most `limit`. */
  async prune(tx: Tx, resolution: ResolutionName, before: Date, limit: number): Promise<number> {
    const rows = await tx.manager.query<unknown[]>(
      `DELETE FROM series_point WHERE ctid IN (
         SELECT ctid FROM series_point WHERE resolution = $1 AND bucket_start < $2 LIMIT $3)
       RETURNING 1`,
      [resolution, before, limit],
    );
    return rows.length;
  }
}
