import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PageTokens,
  UnavailableError,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork, type IdempotencyKey } from '@cinode/database';
import type { ReportState } from '@cinode/proto/gen/cinode/reporting/v1/reporting_service';
import { DeliverySender } from '../delivery/delivery.sender';
import { ErrorReason } from '../errors';
import type { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { ReportContent } from './report-content';
import { pendingReport, type EncodedPayload } from './report-payload';
import type { NodeReportEntity } from './report.entity';
import { stateNameOf } from './reports.mapper';
import { ReportsRepository } from './reports.repository';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const REPORT_ID_RULES = { max: 36, pattern: UUID_PATTERN, patternHint: 'must be a UUID' };

@Injectable()
export class ReportsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly reports: ReportsRepository,
    private readonly pageTokens: PageTokens,
    private readonly sender: DeliverySender,
    private readonly content: ReportContent,
  ) {}

  async list(
    state: ReportState,
    pageSize: number,
    pageToken: string,
  ): Promise<{ reports: NodeReportEntity[]; nextPageToken: string }> {
    const stateName = stateNameOf(state);
    if (stateName === 'unknown')
      new FieldChecks().add('state', `unknown value ${state}`).throwIfAny();
    const filter = stateName === 'unknown' ? undefined : stateName;
    const limit = resolvePageSize(pageSize);
    const filterKey = `reports:${filter ?? ''}`;
    const rows = await this.reports.list(
      filter,
      limit,
      this.pageTokens.decode(pageToken, filterKey),
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (r) => ({ after: r.reportDate, afterId: r.reportId }),
      filterKey,
    );
    return { reports: page, nextPageToken };
  }

  async get(
    reportId: string,
  ): Promise<{ report: NodeReportEntity; attempts: DeliveryAttemptEntity[] }> {
    new FieldChecks().text('report_id', reportId, REPORT_ID_RULES).throwIfAny();
    const report = await this.reports.find(reportId.toLowerCase(), true);
    if (!report)
      throw new NotFoundError(ErrorReason.REPORT_NOT_FOUND, `report ${reportId} does not exist`);
    return { report, attempts: await this.reports.attempts(report.reportId) };
  }

  /** Queues a report for delivery now; a gap has nothing to send. */
  async resend(reportId: string, requestId: string): Promise<NodeReportEntity> {
    checkReportRequest(reportId, requestId);
    const id = reportId.toLowerCase();
    await this.uow.run(async (tx) => {
      const report = await this.reports.lock(tx, id);
      if (!report)
        throw new NotFoundError(ErrorReason.REPORT_NOT_FOUND, `report ${reportId} does not exist`);
      if (report.state === 'missed')
        throw new FailedPreconditionError(
          ErrorReason.REPORT_MISSED,
          `the entry of ${report.reportDate} is a gap: no report was built, there is nothing to send`,
        );
      if (report.state === 'superseded')
        throw new FailedPreconditionError(
          ErrorReason.REPORT_SUPERSEDED,
          `report ${id} was built again as ${report.supersededBy ?? ''}: resend that one`,
        );
      tx.objectId = id;
      // A delivered report keeps its receipt: sending it again would only get the same one.
      if (report.state !== 'delivered') await this.reports.requeue(tx, id);
    });
    this.sender.wake();
    const report = await this.reports.find(id, false);
    if (!report) throw new Error(`report ${id} was queued but cannot be read`);
    return report;
  }

  /**
   * Builds a rejected report again as a new report, from the node as it is now (see the proto):
   * a new id, the same kind, date and window, or the same special request and period; the
   * rejected one becomes superseded and names it. The content is built first, outside the
   * transaction (it asks other services); the transaction then finds the report still rejected
   * under its row lock, or refuses. One request id answers one rebuild, however often retried.
   */
  async rebuild(caller: Caller, reportId: string, requestId: string): Promise<NodeReportEntity> {
    checkReportRequest(reportId, requestId);
    const id = reportId.toLowerCase();
    const key: IdempotencyKey | undefined = requestId
      ? {
          scope: caller.subject,
          requestId,
          operation: 'RebuildReport',
          fingerprint: createHash('sha256').update(id).digest('hex'),
        }
      : undefined;
    // A retry answers what the first call built, without building again.
    const prior = key && (await this.uow.priorOutcome(key));
    if (prior) return this.readRebuilt(prior.objectId);
    const original = await this.reports.find(id, false);
    if (!original)
      throw new NotFoundError(ErrorReason.REPORT_NOT_FOUND, `report ${reportId} does not exist`);
    const generatedAt = await this.reports.databaseNow();
    const period = periodOfRebuild(original);
    let payload: EncodedPayload | undefined;
    if (original.state === 'rejected' && period) {
      try {
        payload = await this.content.payload(period.start, period.end, `the rebuild of ${id}`);
      } catch (error) {
        throw new UnavailableError(
          ErrorReason.BUILD_FAILED,
          `report ${id} could not be built again: ${error instanceof Error ? error.message : String(error)}`,
          { retryAfterSeconds: 5 },
        );
      }
    }
    const outcome = await this.uow.idempotentInsert(key, async (tx) => {
      const locked = await this.reports.lock(tx, id);
      if (!locked)
        throw new NotFoundError(ErrorReason.REPORT_NOT_FOUND, `report ${reportId} does not exist`);
      tx.objectId = id;
      if (locked.state !== 'rejected' || !payload || !period)
        throw new FailedPreconditionError(
          ErrorReason.REPORT_NOT_REJECTED,
          `report ${id} is ${locked.state}: only a rejected report is built again`,
        );
      const delivery = await this.reports.deliveryStateOf(tx, id);
      // An attempt that outlived its lease may still bring a receipt: wait for its outcome.
      if (delivery.inFlight)
        throw new FailedPreconditionError(
          ErrorReason.REPORT_IN_FLIGHT,
          `an attempt to deliver report ${id} is still under way; retry once it has ended`,
        );
      // The national node holds a report under this id already: a rebuild would be a second one.
      if (delivery.lastStatus === 'ALREADY_EXISTS')
        throw new FailedPreconditionError(
          ErrorReason.REPORT_HELD_NATIONALLY,
          `the national node holds a report under id ${id} already (ALREADY_EXISTS): it is not built again`,
        );
      const rebuilt = pendingReport(
        {
          kind: locked.kind,
          specialRequestId: locked.specialRequestId,
          reportDate: locked.reportDate,
          window: locked.window,
          periodStart: period.start,
          periodEnd: period.end,
          generatedAt,
          supersedes: id,
        },
        payload,
      );
      // The rejected report leaves the one-per-day (or per-request) index before its rebuild enters.
      await this.reports.supersede(tx, id, rebuilt.reportId);
      await this.reports.insert(tx, rebuilt);
      return { result: rebuilt.reportId, objectId: rebuilt.reportId };
    });
    if (outcome.created) this.sender.wake();
    return this.readRebuilt(outcome.created ? outcome.result : outcome.objectId);
  }

  private async readRebuilt(reportId: string): Promise<NodeReportEntity> {
    const rebuilt = await this.reports.find(reportId, false);
    if (!rebuilt) throw new Error(`report ${reportId} was built but cannot be read`);
    return rebuilt;
  }
}

function checkReportRequest(reportId: string, requestId: string): void {
  new FieldChecks()
    .text('report_id', reportId, REPORT_ID_RULES)
    .text('request_id', requestId, {
      required: false,
      max: 64,
      pattern: REQUEST_ID_PATTERN,
      patternHint: "must be letters, digits, '.', '_', ':' or '-'",
    })
    .throwIfAny();
}

/**
 * The period a rebuilt report covers: the rejected report's own — a special request's (the
 * national node checks it), or the day a daily report was built for — so a rebuild reports the
 * period that went unreported, not the last 24 hours again.
 */
function periodOfRebuild(report: NodeReportEntity): { start: Date; end: Date } | undefined {
  return report.periodStart && report.periodEnd
    ? { start: report.periodStart, end: report.periodEnd }
    : undefined;
}
