import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited, ReadOnly } from '@cinode/audit';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  GetReportRequest,
  GetReportResponse,
  ListReportsRequest,
  ListReportsResponse,
  RebuildReportRequest,
  RebuildReportResponse,
  ReportingServiceController,
  ResendReportRequest,
  ResendReportResponse,
} from '@cinode/proto/gen/cinode/reporting/v1/reporting_service';
import { toAttemptMessage, toReportMessage } from './reports.mapper';
import { ReportsService } from './reports.service';

const SERVICE = 'ReportingService';

@Controller()
export class ReportsGrpcController implements ReportingServiceController {
  constructor(private readonly reports: ReportsService) {}

  @GrpcMethod(SERVICE, 'ListReports')
  @AllowRoles('operator', 'regulator')
  @ReadOnly()
  async listReports(request: ListReportsRequest): Promise<ListReportsResponse> {
    const { reports, nextPageToken } = await this.reports.list(
      request.state,
      request.pageSize,
      request.pageToken,
    );
    return { reports: reports.map(toReportMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'GetReport')
  @AllowRoles('operator', 'regulator')
  @ReadOnly()
  async getReport(request: GetReportRequest): Promise<GetReportResponse> {
    const { report, attempts } = await this.reports.get(request.reportId);
    return {
      report: toReportMessage(report),
      payload: report.payload ?? Buffer.alloc(0),
      attempts: attempts.map(toAttemptMessage),
    };
  }

  @GrpcMethod(SERVICE, 'ResendReport')
  @AllowRoles('operator')
  @Audited('report', 'reportId')
  async resendReport(request: ResendReportRequest): Promise<ResendReportResponse> {
    return {
      report: toReportMessage(await this.reports.resend(request.reportId, request.requestId)),
    };
  }

  @GrpcMethod(SERVICE, 'RebuildReport')
  @AllowRoles('operator')
  @Audited('report', 'reportId')
  async rebuildReport(
    request: RebuildReportRequest,
    metadata: Metadata,
  ): Promise<RebuildReportResponse> {
    return {
      report: toReportMessage(
        await this.reports.rebuild(callerOf(metadata), request.reportId, request.requestId),
      ),
    };
  }
}
