import { Controller, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  IssueSpecialReportRequestRequest,
  IssueSpecialReportRequestResponse,
  ListSpecialReportRequestsRequest,
  ListSpecialReportRequestsResponse,
  NationalNodeAdminServiceController,
  NationalNodeServiceController,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInterceptor } from '../faults/fault.interceptor';
import { toSpecialRequestMessage } from './special-requests.mapper';
import { SpecialRequestsService } from './special-requests.service';

/** What nodes call: the requests issued to them (faulted like the rest of the node-facing API). */
@Controller()
@UseInterceptors(FaultInterceptor)
export class SpecialRequestsGrpcController
  implements Pick<NationalNodeServiceController, 'listSpecialReportRequests'>
{
  constructor(private readonly requests: SpecialRequestsService) {}

  @GrpcMethod('NationalNodeService', 'ListSpecialReportRequests')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  async listSpecialReportRequests(
    request: ListSpecialReportRequestsRequest,
    metadata: Metadata,
  ): Promise<ListSpecialReportRequestsResponse> {
    const { requests, nextPageToken } = await this.requests.list(
      request.nodeCode,
      request.state,
      request.issuedSince,
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    return { requests: requests.map(toSpecialRequestMessage), nextPageToken };
  }
}

/** The national node's own side: issuing requests (never faulted). */
@Controller()
export class SpecialRequestsAdminGrpcController
  implements Pick<NationalNodeAdminServiceController, 'issueSpecialReportRequest'>
{
  constructor(private readonly requests: SpecialRequestsService) {}

  @GrpcMethod('NationalNodeAdminService', 'IssueSpecialReportRequest')
  @AllowRoles('operator')
  @Audited('special_report_request', 'created', 'request.specialRequestId')
  async issueSpecialReportRequest(
    request: IssueSpecialReportRequestRequest,
    metadata: Metadata,
  ): Promise<IssueSpecialReportRequestResponse> {
    const issued = await this.requests.issue(request, callerOf(metadata));
    return { request: toSpecialRequestMessage(issued) };
  }
}
