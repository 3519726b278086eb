import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited, ReadOnly } from '@cinode/audit';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import { toTimestamp } from '@cinode/grpc';
import type {
  GetReportRequest,
  GetReportResponse,
  ListReportsRequest,
  ListReportsResponse,
  NationalNodeServiceController,
  SubmitReportRequest,
  SubmitReportResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInjectionService } from '../faults/fault-injection.service';
import { toReportMessage } from './reports.mapper';
import { ReportsService } from './reports.service';

const SERVICE = 'NationalNodeService';

/**
 * The faults are applied at the start of each handler rather than by FaultInterceptor: a handler
 * without Nest enhancers is dispatched by the kit directly, without Nest's per-call machinery, and
 * SubmitReport is the call a node's backlog drains through.
 */
@Controller()
export class ReportsGrpcController
  implements Pick<NationalNodeServiceController, 'submitReport' | 'listReports' | 'getReport'>
{
  constructor(
    private readonly reports: ReportsService,
    private readonly faults: FaultInjectionService,
  ) {}

  @GrpcMethod(SERVICE, 'SubmitReport')
  @AllowRoles('service')
  @Audited('report', 'reportId')
  async submitReport(
    request: SubmitReportRequest,
    metadata: Metadata,
  ): Promise<SubmitReportResponse> {
    await this.faults.beforeCall();
    const { report, created } = await this.reports.submit(request, callerOf(metadata));
    return {
      receiptNumber: report.receiptNumber,
      receivedAt: toTimestamp(report.receivedAt),
      created,
    };
  }

  @GrpcMethod(SERVICE, 'ListReports')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async listReports(request: ListReportsRequest, metadata: Metadata): Promise<ListReportsResponse> {
    await this.faults.beforeCall();
    const { reports, nextPageToken } = await this.reports.list(
      request.nodeCode,
      request.kind,
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    return { reports: reports.map(toReportMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'GetReport')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async getReport(request: GetReportRequest, metadata: Metadata): Promise<GetReportResponse> {
    await this.faults.beforeCall();
    return {
      report: toReportMessage(await this.reports.get(request.reportId, callerOf(metadata))),
    };
  }
}
