import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Audited } from '@cinode/audit';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  IdentifierServiceController,
  IssueIdentifierRequest,
  IssueIdentifierResponse,
} from '@cinode/proto/gen/cinode/identifier/v1/identifier_service';
import { ISSUE_ROLES } from '../access/identifier-access';
import { toIdentifierMessage } from '../identifiers/identifiers.mapper';
import { IssuanceService } from './issuance.service';

@Controller()
export class IssuanceGrpcController
  implements Pick<IdentifierServiceController, 'issueIdentifier'>
{
  constructor(private readonly issuance: IssuanceService) {}

  @GrpcMethod('IdentifierService', 'IssueIdentifier')
  @AllowRoles(...ISSUE_ROLES)
  @Audited('identifier', 'created', 'identifier.identifier')
  async issueIdentifier(
    request: IssueIdentifierRequest,
    metadata: Metadata,
  ): Promise<IssueIdentifierResponse> {
    const { record, created } = await this.issuance.issue(callerOf(metadata), request);
    return { identifier: toIdentifierMessage(record.entity, record.transitions), created };
  }
}
