import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { ReadOnly } from '@cinode/audit';
import { AllowRoles } from '@cinode/auth';
import type { EncodedResponse } from '@cinode/grpc';
import type {
  GetIndexStatusResponse,
  SelectRequest,
} from '@cinode/proto/gen/cinode/selection/v1/selection_service';
import { SelectionService } from './selection.service';

const SERVICE = 'SelectionService';

@Controller()
export class SelectionGrpcController {
  constructor(private readonly selection: SelectionService) {}

  /**
   * Answered synchronously from memory, already encoded: no promise between the request and the
   * ranking, and no second pass over the answer to encode it.
   */
  @GrpcMethod(SERVICE, 'Select')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  select(request: SelectRequest): EncodedResponse {
    return this.selection.answer(request);
  }

  @GrpcMethod(SERVICE, 'GetIndexStatus')
  @AllowRoles('service', 'operator', 'regulator')
  @ReadOnly()
  getIndexStatus(): GetIndexStatusResponse {
    return this.selection.status();
  }
}
