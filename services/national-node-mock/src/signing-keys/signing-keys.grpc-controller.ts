import { Controller, UseInterceptors } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Audited } from '@cinode/audit';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import { toTimestamp } from '@cinode/grpc';
import type {
  NationalNodeServiceController,
  RegisterReportSigningKeyRequest,
  RegisterReportSigningKeyResponse,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import { FaultInterceptor } from '../faults/fault.interceptor';
import { SigningKeysService } from './signing-keys.service';

const SERVICE = 'NationalNodeService';

@Controller()
@UseInterceptors(FaultInterceptor)
export class SigningKeysGrpcController
  implements Pick<NationalNodeServiceController, 'registerReportSigningKey'>
{
  constructor(private readonly keys: SigningKeysService) {}

  @GrpcMethod(SERVICE, 'RegisterReportSigningKey')
  @AllowRoles('service')
  @Audited('report_signing_key', 'created', 'key.keyId')
  async registerReportSigningKey(
    request: RegisterReportSigningKeyRequest,
    metadata: Metadata,
  ): Promise<RegisterReportSigningKeyResponse> {
    const { key, created } = await this.keys.register(request, callerOf(metadata));
    return {
      key: {
        keyId: key.keyId,
        nodeCode: key.nodeCode,
        publicKey: key.publicKey,
        registeredAt: toTimestamp(key.registeredAt),
      },
      created,
    };
  }
}
