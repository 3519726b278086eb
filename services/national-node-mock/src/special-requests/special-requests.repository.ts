import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx } from '@cinode/database';
import { SpecialRequestEntity } from './special-request.entity';

export type NewSpecialRequest = Pick<
  SpecialRequestEntity,
  'nodeCode' | 'reportTypes' | 'periodStart' | 'periodEnd' | 'reason'
> & { deadline: Date | undefined; defaultDeadlineMs: number };

/** Per-day counts of one node's special requests, by CST issue day. */
export interface SpecialRequestDay {
  date: string;
  issued: number;
  onTime: number;
  late: number;
  open: number;
  /** Requests whose deadline passed without an answer by it (late or still open). */
  missed: number;
}

@Injectable()
export class SpecialRequestsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Stores the request, numbering it from a sequence; the deadline defaults from now(). */
  async insert(tx: Tx, request: NewSpecialRequest): Promise<SpecialRequestEntity> {
    const rows: { special_request_id: string }[] = await tx.manager.query(
      `INSERT INTO special_report_request
         (special_request_id, node_code, report_types, period_start, period_end, reason, issued_at, deadline)
       SELECT 'SR' || to_char(t.now AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
                   || lpad(nextval('special_report_request_seq')::text, 6, '0'),
              $1, $2::smallint[], $3, $4, $5, t.now,
              COALESCE($6::timestamptz, t.now + make_interval(secs => $7::double precision / 1000))
         FROM (SELECT date_trunc('milliseconds', now()) AS now) t
       RETURNING special_request_id`,
      [
        request.nodeCode,
        request.reportTypes,
        request.periodStart,
        request.periodEnd,
        request.reason,
        request.deadline ?? null,
        request.defaultDeadlineMs,
      ],
    );
    const stored = await this.find(rows[0].special_request_id, tx);
    if (!stored) throw new Error('a special request was inserted but cannot be read');
    return stored;
  }

  /** One request; plain SQL, as SubmitReport looks up every special report's request. */
  async find(specialRequestId: string, tx?: Tx): Promise<SpecialRequestEntity | undefined> {
    const rows: {
      special_request_id: string;
      node_code: string;
      report_types: number[];
      period_start: Date;
      period_end: Date;
      reason: string;
      issued_at: Date;
      deadline: Date;
      answered_report_id: string | null;
      answered_at: Date | null;
    }[] = await this.uow.manager(tx).query(
      `SELECT special_request_id, node_code, report_types, period_start, period_end, reason,
              issued_at, deadline, answered_report_id, answered_at
         FROM special_report_request WHERE special_request_id = $1`,
      [specialRequestId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      specialRequestId: row.special_request_id,
      nodeCode: row.node_code,
      reportTypes: row.report_types,
      periodStart: row.period_start,
      periodEnd: row.period_end,
      reason: row.reason,
      issuedAt: row.issued_at,
      deadline: row.deadline,
      answeredReportId: row.answered_report_id,
      answeredAt: row.answered_at,
    };
  }

  /** One page of a node's requests in issue order; one extra row tells whether more exist. */
  list(
    nodeCode: string,
    open: boolean | undefined,
    issuedSince: Date | undefined,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<SpecialRequestEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(SpecialRequestEntity)
      .createQueryBuilder('s')
      .where('s.node_code = :nodeCode', { nodeCode })
      .orderBy('s.issued_at', 'ASC')
      .addOrderBy('s.special_request_id', 'ASC')
      .limit(limit + 1);
    if (open === true) query.andWhere('s.answered_at IS NULL');
    if (open === false) query.andWhere('s.answered_at IS NOT NULL');
    if (issuedSince) query.andWhere('s.issued_at >= :issuedSince', { issuedSince });
    if (after)
      query.andWhere('(s.issued_at, s.special_request_id) > (:after, :afterId)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }

  /** Counts per CST issue day of one node's requests issued in [from, to), as of `now`. */
  async days(nodeCode: string, from: Date, to: Date, now: Date): Promise<SpecialRequestDay[]> {
    const rows: {
      date: string;
      issued: string;
      on_time: string;
      late: string;
      open: string;
      missed: string;
    }[] = await this.uow.manager().query(
      `SELECT to_char(issued_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS date,
              count(*) AS issued,
              count(*) FILTER (WHERE answered_at <= deadline) AS on_time,
              count(*) FILTER (WHERE answered_at > deadline) AS late,
              count(*) FILTER (WHERE answered_at IS NULL) AS open,
              count(*) FILTER (WHERE deadline < $4
                               AND (answered_at IS NULL OR answered_at > deadline)) AS missed
         FROM special_report_request
        WHERE node_code = $1 AND issued_at >= $2 AND issued_at < $3
        GROUP BY 1`,
      [nodeCode, from, to, now],
    );
    return rows.map((r) => ({
      date: r.date,
      issued: Number(r.issued),
      onTime: Number(r.on_time),
      late: Number(r.late),
      open: Number(r.open),
      missed: Number(r.missed),
    }));
  }
}
