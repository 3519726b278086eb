import { Injectable } from '@nestjs/common';
import {
  FailedPreconditionError,
  FieldChecks,
  NotFoundError,
  PageTokens,
  resolvePageSize,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import type { ReportState } from '@cinode/proto/gen/cinode/reporting/v1/reporting_service';
import { DeliverySender } from '../delivery/delivery.sender';
import { ErrorReason } from '../errors';
import type { DeliveryAttemptEntity } from './delivery-attempt.entity';
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
    new FieldChecks()
      .text('report_id', reportId, REPORT_ID_RULES)
      .text('request_id', requestId, {
        required: false,
        max: 64,
        pattern: REQUEST_ID_PATTERN,
        patternHint: "must be letters, digits, '.', '_', ':' or '-'",
      })
      .throwIfAny();
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
      tx.objectId = id;
      // A delivered report keeps its receipt: sending it again would only get the same one.
      if (report.state !== 'delivered') await this.reports.requeue(tx, id);
    });
    this.sender.wake();
    const report = await this.reports.find(id, false);
    if (!report) throw new Error(`report ${id} was queued but cannot be read`);
    return report;
  }
}
