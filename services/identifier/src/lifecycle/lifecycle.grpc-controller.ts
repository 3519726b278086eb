import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  IdentifierServiceController,
  ReinstateIdentifierRequest,
  ReinstateIdentifierResponse,
  RetireIdentifierRequest,
  RetireIdentifierResponse,
  SuspendIdentifierRequest,
  SuspendIdentifierResponse,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { RETIRE_ROLES, SUSPEND_ROLES } from '../access/identifier-access';
import { toIdentifierMessage } from '../identifiers/identifiers.mapper';
import { LifecycleService } from './lifecycle.service';

const SERVICE = 'IdentifierService';

@Controller()
export class LifecycleGrpcController
  implements
    Pick<
      IdentifierServiceController,
      'suspendIdentifier' | 'reinstateIdentifier' | 'retireIdentifier'
    >
{
  constructor(private readonly lifecycle: LifecycleService) {}

  @GrpcMethod(SERVICE, 'SuspendIdentifier')
  @AllowRoles(...SUSPEND_ROLES)
  @Audited('identifier', 'identifier')
  async suspendIdentifier(
    request: SuspendIdentifierRequest,
    metadata: Metadata,
  ): Promise<SuspendIdentifierResponse> {
    const record = await this.lifecycle.suspend(
      callerOf(metadata),
      request.identifier,
      request.reason,
    );
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }

  @GrpcMethod(SERVICE, 'ReinstateIdentifier')
  @AllowRoles(...SUSPEND_ROLES)
  @Audited('identifier', 'identifier')
  async reinstateIdentifier(
    request: ReinstateIdentifierRequest,
    metadata: Metadata,
  ): Promise<ReinstateIdentifierResponse> {
    const record = await this.lifecycle.reinstate(
      callerOf(metadata),
      request.identifier,
      request.reason,
    );
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }

  @GrpcMethod(SERVICE, 'RetireIdentifier')
  @AllowRoles(...RETIRE_ROLES)
  @Audited('identifier', 'identifier')
  async retireIdentifier(
    request: RetireIdentifierRequest,
    metadata: Metadata,
  ): Promise<RetireIdentifierResponse> {
    const record = await this.lifecycle.retire(
      callerOf(metadata),
      request.identifier,
      request.reason,
    );
    return { identifier: toIdentifierMessage(record.entity, record.transitions) };
  }
}
