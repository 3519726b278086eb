import { Controller, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles } from '@cinode/auth';
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
import { FaultInterceptor } from '../faults/fault.interceptor';
import { toReportMessage } from './reports.mapper';
import { ReportsService } from './reports.service';

const SERVICE = 'NationalNodeService';

@Controller()
@UseInterceptors(FaultInterceptor)
export class ReportsGrpcController
  implements Pick<NationalNodeServiceController, 'submitReport' | 'listReports' | 'getReport'>
{
  constructor(private readonly reports: ReportsService) {}

  @GrpcMethod(SERVICE, 'SubmitReport')
  @AllowRoles('service')
  @Audited('report', 'reportId')
  async submitReport(request: SubmitReportRequest): Promise<SubmitReportResponse> {
    const { report, created } = await this.reports.submit(request);
    return {
      receiptNumber: report.receiptNumber,
      receivedAt: toTimestamp(report.receivedAt),
      created,
    };
  }

  @GrpcMethod(SERVICE, 'ListReports')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async listReports(request: ListReportsRequest): Promise<ListReportsResponse> {
    const { reports, nextPageToken } = await this.reports.list(
      request.nodeCode,
      request.kind,
      request.pageSize,
      request.pageToken,
    );
    return { reports: reports.map(toReportMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'GetReport')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async getReport(request: GetReportRequest): Promise<GetReportResponse> {
    return { report: toReportMessage(await this.reports.get(request.reportId)) };
  }
}
