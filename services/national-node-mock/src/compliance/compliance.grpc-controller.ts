import { Controller, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ReadOnly } from '@cinode/audit';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import { toTimestamp } from '@cinode/grpc';
import type {
  ListReportingComplianceRequest,
  ListReportingComplianceResponse,
  NationalNodeServiceController,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInterceptor } from '../faults/fault.interceptor';
import { ComplianceService } from './compliance.service';

const SERVICE = 'NationalNodeService';

@Controller()
@UseInterceptors(FaultInterceptor)
export class ComplianceGrpcController
  implements Pick<NationalNodeServiceController, 'listReportingCompliance'>
{
  constructor(private readonly compliance: ComplianceService) {}

  @GrpcMethod(SERVICE, 'ListReportingCompliance')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async listReportingCompliance(
    request: ListReportingComplianceRequest,
    metadata: Metadata,
  ): Promise<ListReportingComplianceResponse> {
    const days = await this.compliance.list(
      request.nodeCode,
      request.startDate,
      request.endDate,
      callerOf(metadata),
    );
    return {
      days: days.map((d) => ({
        date: d.date,
        met: d.met,
        reportsOutsideWindows: d.outsideWindows,
        specialRequestsIssued: d.special.issued,
        specialRequestsOnTime: d.special.onTime,
        specialRequestsLate: d.special.late,
        specialRequestsOpen: d.special.open,
        specialRequestsMet: d.special.missed === 0,
        windows: d.windows.map((w) => ({
          window: w.window,
          windowStart: toTimestamp(w.start),
          windowEnd: toTimestamp(w.end),
          onTime: w.received.length > 0,
          reportsReceived: w.received.length,
          firstReportId: w.received[0]?.reportId ?? '',
          firstReceivedAt: w.received[0] ? toTimestamp(w.received[0].receivedAt) : undefined,
        })),
      })),
    };
  }
}
