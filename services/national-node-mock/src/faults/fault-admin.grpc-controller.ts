import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited, ReadOnly } from '@cinode/audit';
import { AllowRoles } from '@cinode/auth';
import { required } from '@cinode/common';
import { durationToMs, msToDuration } from '@cinode/grpc';
import type {
  FaultInjection,
  GetFaultInjectionResponse,
  NationalNodeAdminServiceController,
  SetFaultInjectionRequest,
  SetFaultInjectionResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInjectionService, type Faults } from './fault-injection.service';

const SERVICE = 'NationalNodeAdminService';

function toMessage(faults: Faults): FaultInjection {
  return {
    unavailableRatio: faults.unavailableRatio,
    addedLatency: msToDuration(faults.addedLatencyMs),
    outage: faults.outage,
  };
}

@Controller()
export class FaultAdminGrpcController
  implements Pick<NationalNodeAdminServiceController, 'getFaultInjection' | 'setFaultInjection'>
{
  constructor(private readonly faults: FaultInjectionService) {}

  @GrpcMethod(SERVICE, 'GetFaultInjection')
  @AllowRoles('operator')
  @ReadOnly()
  getFaultInjection(): GetFaultInjectionResponse {
    return { faults: toMessage(this.faults.current()) };
  }

  @GrpcMethod(SERVICE, 'SetFaultInjection')
  @AllowRoles('operator')
  @Audited('fault_injection', 'faults')
  setFaultInjection(request: SetFaultInjectionRequest): SetFaultInjectionResponse {
    const faults = required('faults', request.faults);
    const set = this.faults.set({
      unavailableRatio: faults.unavailableRatio,
      addedLatencyMs: durationToMs(faults.addedLatency),
      outage: faults.outage,
    });
    return { faults: toMessage(set) };
  }
}
