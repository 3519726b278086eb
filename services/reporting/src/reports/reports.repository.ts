import { Injectable } from '@nestjs/common';
import type { PagePosition } from '@cinode/common';
import { UnitOfWork, type Tx, databaseNow } from '@cinode/database';
import { DeliveryAttemptEntity, type AttemptOutcomeName } from './delivery-attempt.entity';
import { NodeReportEntity, type ReportStateName } from './report.entity';

/** A report claimed for one delivery attempt, with what it takes to send it. */
export interface ClaimedReport {
  reportId: string;
  kind: number;
  specialRequestId: string;
  periodStart: Date;
  periodEnd: Date;
  generatedAt: Date;
  schemaVersion: string;
  payload: Buffer;
  payloadSha256: string;
  attempt: number;
}

/** The outcome of one attempt, as the sender records it. */
export interface Settlement {
  reportId: string;
  attempt: number;
  outcome: Exclude<AttemptOutcomeName, 'in_flight' | 'interrupted'>;
  grpcStatus: string;
  error: string;
  /** A failed attempt: when to try next. */
  nextAttemptAt: Date | null;
  /** A delivered one: the receipt. */
  receiptNumber: string | null;
  receivedAt: Date | null;
}

interface ClaimedRow {
  report_id: string;
  kind: number;
  special_request_id: string;
  period_start: Date;
  period_end: Date;
  generated_at: Date;
  schema_version: string;
  payload: Buffer;
  payload_sha256: string;
  attempts: number;
}

@Injectable()
export class ReportsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Inserts a report or gap; false when the day has its daily entry already (another replica). */
  async insertIfAbsent(tx: Tx, report: NodeReportEntity): Promise<boolean> {
    const result = await tx.manager
      .createQueryBuilder()
      .insert()
      .into(NodeReportEntity)
      .values(report)
      .orIgnore()
      .returning('report_id')
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /**
   * Inserts reports, skipping any whose special request has its report already (another replica,
   * or a round before a restart): the ids inserted.
   */
  async insertManyIfAbsent(tx: Tx, reports: NodeReportEntity[]): Promise<string[]> {
    if (reports.length === 0) return [];
    const result = await tx.manager
      .createQueryBuilder()
      .insert()
      .into(NodeReportEntity)
      .values(reports)
      .orIgnore()
      .returning('report_id')
      .execute();
    return (result.raw as { report_id: string }[]).map((r) => r.report_id);
  }

  /** Which of these special requests have their report here already. */
  async answeredSpecialRequests(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { special_request_id: string }[] = await this.uow
      .manager()
      .query(
        `SELECT special_request_id FROM node_report WHERE kind = 2 AND special_request_id = ANY($1::varchar[])`,
        [ids],
      );
    return new Set(rows.map((r) => r.special_request_id));
  }

  /** The database's clock: what every replica schedules by, whatever its own clock says. */
  databaseNow(): Promise<Date> {
    return databaseNow(this.uow.manager());
  }

  /** The days in [from, to] that have a daily entry, and the first day that has one at all. */
  /**
   * The CST days from `from` to `to` with a daily entry (report or gap), the first day ever
   * recorded, and the latest one recorded before `from` (where a run of missed days older than
   * `from` starts; see planDaily).
   */
  async dailyDays(
    from: string,
    to: string,
  ): Promise<{ days: Set<string>; first?: string; lastBefore?: string }> {
    const manager = this.uow.manager();
    const rows: { day: string }[] = await manager.query(
      `SELECT report_date::text AS day FROM node_report WHERE kind = 1 AND report_date BETWEEN $1::date AND $2::date`,
      [from, to],
    );
    const bounds: { first: string | null; last_before: string | null }[] = await manager.query(
      `SELECT min(report_date)::text AS first,
              max(report_date) FILTER (WHERE report_date < $1::date)::text AS last_before
         FROM node_report WHERE kind = 1`,
      [from],
    );
    return {
      days: new Set(rows.map((r) => r.day)),
      first: bounds[0]?.first ?? undefined,
      lastBefore: bounds[0]?.last_before ?? undefined,
    };
  }

  /**
   * Claims up to `limit` pending reports whose time has come, for one attempt each: the attempt
   * counter goes up, the next try moves `leaseMs` ahead (so a sender that dies mid-call leaves the
   * report to be claimed again once the lease ends), attempts left in flight by a dead sender are
   * marked interrupted, and the new attempt is recorded as in flight. Replicas skip each other's
   * claims (SKIP LOCKED).
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedReport[]> {
    return this.uow.run(async (tx) => {
      const result: unknown = await tx.manager.query(
        `WITH due AS (
           SELECT report_id FROM node_report
            WHERE state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at, report_id
            LIMIT $1
            FOR UPDATE SKIP LOCKED)
         UPDATE node_report r
            SET attempts = r.attempts + 1,
                next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
           FROM due
          WHERE r.report_id = due.report_id
         RETURNING r.report_id, r.kind, r.special_request_id, r.period_start, r.period_end, r.generated_at,
                   r.schema_version, r.payload, r.payload_sha256, r.attempts`,
        [limit, leaseMs],
      );
      // An UPDATE answers [rows, affected count] through TypeORM's query().
      const [rows] = result as [ClaimedRow[], number];
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.report_id);
      await tx.manager.query(
        `UPDATE report_delivery_attempt SET outcome = 'interrupted'
          WHERE report_id = ANY($1::uuid[]) AND outcome = 'in_flight'`,
        [ids],
      );
      await tx.manager.query(
        `INSERT INTO report_delivery_attempt (report_id, attempt, started_at, outcome)
         SELECT t.report_id, t.attempt, now(), 'in_flight'
           FROM unnest($1::uuid[], $2::int[]) AS t(report_id, attempt)`,
        [ids, rows.map((r) => r.attempts)],
      );
      return rows.map((r) => ({
        reportId: r.report_id,
        kind: r.kind,
        specialRequestId: r.special_request_id,
        periodStart: r.period_start,
        periodEnd: r.period_end,
        generatedAt: r.generated_at,
        schemaVersion: r.schema_version,
        payload: r.payload,
        payloadSha256: r.payload_sha256,
        attempt: r.attempts,
      }));
    });
  }

  /**
   * Settles the attempts of one sender round in one transaction, and each report its attempt still
   * holds: a receipt delivers it whichever attempt brought it; a refusal or a failure applies only
   * while the report is pending and no later attempt has claimed it.
   */
  async settleMany(settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    const of = <K extends keyof Settlement>(key: K, outcome?: Settlement['outcome']) =>
      settlements.filter((s) => !outcome || s.outcome === outcome).map((s) => s[key]);
    await this.uow.run(async (tx) => {
      await tx.manager.query(
        `UPDATE report_delivery_attempt a
            SET outcome = t.outcome, finished_at = now(), grpc_status = t.grpc_status, error = t.error
           FROM unnest($1::uuid[], $2::int[], $3::varchar[], $4::varchar[], $5::text[])
                AS t(report_id, attempt, outcome, grpc_status, error)
          WHERE a.report_id = t.report_id AND a.attempt = t.attempt`,
        [of('reportId'), of('attempt'), of('outcome'), of('grpcStatus'), of('error')],
      );
      if (settlements.some((s) => s.outcome === 'delivered'))
        await tx.manager.query(
          // A receipt for a report superseded meanwhile (an attempt that outlived its lease) is
          // kept on it, and the report stays superseded: its rebuild holds the day's (or the
          // request's) one live entry, and the receipt says the national node has this one too.
          `UPDATE node_report r
              SET state = CASE WHEN r.state = 'superseded' THEN 'superseded' ELSE 'delivered' END,
                  receipt_number = t.receipt_number, received_at = t.received_at,
                  delivered_at = COALESCE(r.delivered_at, now()), next_attempt_at = NULL, last_error = ''
             FROM unnest($1::uuid[], $2::varchar[], $3::timestamptz[]) AS t(report_id, receipt_number, received_at)
            WHERE r.report_id = t.report_id AND r.state <> 'missed'`,
          [
            of('reportId', 'delivered'),
            of('receiptNumber', 'delivered'),
            of('receivedAt', 'delivered'),
          ],
        );
      if (settlements.some((s) => s.outcome === 'rejected'))
        await tx.manager.query(
          `UPDATE node_report r SET state = 'rejected', next_attempt_at = NULL, last_error = t.error
             FROM unnest($1::uuid[], $2::int[], $3::text[]) AS t(report_id, attempt, error)
            WHERE r.report_id = t.report_id AND r.attempts = t.attempt AND r.state = 'pending'`,
          [of('reportId', 'rejected'), of('attempt', 'rejected'), of('error', 'rejected')],
        );
      if (settlements.some((s) => s.outcome === 'failed'))
        await tx.manager.query(
          `UPDATE node_report r SET next_attempt_at = t.next_attempt_at, last_error = t.error
             FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::text[])
                  AS t(report_id, attempt, next_attempt_at, error)
            WHERE r.report_id = t.report_id AND r.attempts = t.attempt AND r.state = 'pending'`,
          [
            of('reportId', 'failed'),
            of('attempt', 'failed'),
            of('nextAttemptAt', 'failed'),
            of('error', 'failed'),
          ],
        );
    });
  }

  /**
   * Makes every pending report that waits on its backoff due now, except those with an attempt in
   * flight (their sender, or its lease, decides): the national node answers again after failing,
   * so the backlog need not sit out delays grown during the outage. The number made due.
   */
  async makeWaitingDue(): Promise<number> {
    const result: unknown = await this.uow.manager().query(
      `UPDATE node_report r SET next_attempt_at = now()
        WHERE r.state = 'pending' AND r.next_attempt_at > now()
          AND NOT EXISTS (SELECT 1 FROM report_delivery_attempt a
                           WHERE a.report_id = r.report_id AND a.outcome = 'in_flight')`,
    );
    const [, affected] = result as [unknown[], number];
    return affected;
  }

  async find(
    reportId: string,
    withPayload: boolean,
    tx?: Tx,
  ): Promise<NodeReportEntity | undefined> {
    const query = this.uow
      .manager(tx)
      .getRepository(NodeReportEntity)
      .createQueryBuilder('r')
      .where('r.report_id = :reportId', { reportId });
    if (withPayload) query.addSelect('r.payload');
    return (await query.getOne()) ?? undefined;
  }

  async lock(tx: Tx, reportId: string): Promise<NodeReportEntity | undefined> {
    return (
      (await tx.manager
        .getRepository(NodeReportEntity)
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .where('r.report_id = :reportId', { reportId })
        .getOne()) ?? undefined
    );
  }

  /** Inserts a new report; a second live entry for its day or special request fails (unique). */
  async insert(tx: Tx, report: NodeReportEntity): Promise<void> {
    await tx.manager.getRepository(NodeReportEntity).insert(report);
  }

  /** Marks a rejected report as superseded by its rebuild: it leaves the queue and the one-per-day index. */
  async supersede(tx: Tx, reportId: string, by: string): Promise<void> {
    await tx.manager.query(
      `UPDATE node_report SET state = 'superseded', superseded_by = $2, next_attempt_at = NULL
        WHERE report_id = $1 AND state = 'rejected'`,
      [reportId, by],
    );
  }

  /**
   * Puts a rejected report back in the queue, or makes a waiting one due now; one with an attempt
   * in flight is left to it (due now, another replica would send it at the same time).
   */
  async requeue(tx: Tx, reportId: string): Promise<void> {
    await tx.manager.query(
      `UPDATE node_report SET state = 'pending', next_attempt_at = now()
        WHERE report_id = $1
          AND (state = 'rejected'
               OR (state = 'pending' AND NOT EXISTS (
                     SELECT 1 FROM report_delivery_attempt a
                      WHERE a.report_id = $1 AND a.outcome = 'in_flight')))`,
      [reportId],
    );
  }

  /** Whether an attempt of the report is in flight, and the status its last finished attempt got. */
  async deliveryStateOf(
    tx: Tx,
    reportId: string,
  ): Promise<{ inFlight: boolean; lastStatus: string | undefined }> {
    const rows = await tx.manager.query<Array<{ outcome: string; grpc_status: string }>>(
      `SELECT outcome, grpc_status FROM report_delivery_attempt WHERE report_id = $1
        ORDER BY attempt DESC`,
      [reportId],
    );
    return {
      inFlight: rows.some((r) => r.outcome === 'in_flight'),
      lastStatus: rows.find((r) => r.outcome !== 'in_flight' && r.outcome !== 'interrupted')
        ?.grpc_status,
    };
  }

  async attempts(reportId: string): Promise<DeliveryAttemptEntity[]> {
    return this.uow
      .manager()
      .getRepository(DeliveryAttemptEntity)
      .find({ where: { reportId }, order: { attempt: 'ASC' } });
  }

  /** One page, newest report date first; one extra row tells whether another page exists. */
  list(
    state: ReportStateName | undefined,
    limit: number,
    after: PagePosition | undefined,
  ): Promise<NodeReportEntity[]> {
    const query = this.uow
      .manager()
      .getRepository(NodeReportEntity)
      .createQueryBuilder('r')
      .orderBy('r.report_date', 'DESC')
      .addOrderBy('r.report_id', 'DESC')
      .limit(limit + 1);
    if (state) query.andWhere('r.state = :state', { state });
    if (after)
      query.andWhere('(r.report_date, r.report_id) < (:after::date, :afterId::uuid)', {
        after: after.after,
        afterId: after.afterId,
      });
    return query.getMany();
  }
}
