import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  ListAllocationsRequest,
  ListAllocationsResponse,
  ReportTaskStateRequest,
  ReportTaskStateResponse,
} from '@cinode/proto/gen/cinode/resource/v1/resource_service';
import { toAllocationMessage } from './allocation-view';
import { AllocationsService } from './allocations.service';

const SERVICE = 'ResourceService';

@Controller()
export class AllocationsGrpcController {
  constructor(private readonly allocations: AllocationsService) {}

  @GrpcMethod(SERVICE, 'ListAllocations')
  @AllowRoles('provider', 'operator', 'regulator', 'service')
  @ReadOnly()
  async listAllocations(
    request: ListAllocationsRequest,
    metadata: Metadata,
  ): Promise<ListAllocationsResponse> {
    const { allocations, nextPageToken } = await this.allocations.list(callerOf(metadata), request);
    return { allocations: allocations.map(toAllocationMessage), nextPageToken };
  }

  /** The task is the pool's provider's to run and report; nobody else's. */
  @GrpcMethod(SERVICE, 'ReportTaskState')
  @AllowRoles('provider')
  @Audited('allocation', 'allocationId')
  async reportTaskState(
    request: ReportTaskStateRequest,
    metadata: Metadata,
  ): Promise<ReportTaskStateResponse> {
    const { allocation, changed } = await this.allocations.report(callerOf(metadata), request);
    return { allocation: toAllocationMessage(allocation), changed };
  }
}
