import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import { toTimestamp } from '@cinode/grpc';
import type {
  CheckResaleQualificationRequest,
  CheckResaleQualificationResponse,
  GrantResaleQualificationRequest,
  GrantResaleQualificationResponse,
  ListQualificationsRequest,
  ListQualificationsResponse,
  QualificationServiceController,
  RevokeQualificationRequest,
  RevokeQualificationResponse,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { Audited, ReadOnly } from '@cinode/audit';
import { READ_ROLES } from '../roles';
import { toQualificationMessage } from './qualifications.mapper';
import { QualificationsService } from './qualifications.service';

const SERVICE = 'QualificationService';

@Controller()
export class QualificationsGrpcController implements QualificationServiceController {
  constructor(private readonly qualifications: QualificationsService) {}

  @GrpcMethod(SERVICE, 'GrantResaleQualification')
  @AllowRoles('operator')
  @Audited('qualification', 'created', 'qualification.id')
  async grantResaleQualification(
    request: GrantResaleQualificationRequest,
    metadata: Metadata,
  ): Promise<GrantResaleQualificationResponse> {
    return {
      qualification: toQualificationMessage(
        await this.qualifications.grant(request, callerOf(metadata)),
      ),
    };
  }

  @GrpcMethod(SERVICE, 'ListQualifications')
  @AllowRoles(...READ_ROLES)
  @ReadOnly()
  async listQualifications(
    request: ListQualificationsRequest,
    metadata: Metadata,
  ): Promise<ListQualificationsResponse> {
    const { qualifications, nextPageToken } = await this.qualifications.list(
      request.participantId,
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    const now = new Date();
    return {
      qualifications: qualifications.map((q) => toQualificationMessage(q, now)),
      nextPageToken,
    };
  }

  @GrpcMethod(SERVICE, 'RevokeQualification')
  @AllowRoles('operator')
  @Audited('qualification', 'qualificationId')
  async revokeQualification(
    request: RevokeQualificationRequest,
    metadata: Metadata,
  ): Promise<RevokeQualificationResponse> {
    return {
      qualification: toQualificationMessage(
        await this.qualifications.revoke(
          request.qualificationId,
          request.reason,
          callerOf(metadata),
        ),
      ),
    };
  }

  @GrpcMethod(SERVICE, 'CheckResaleQualification')
  @AllowRoles(...READ_ROLES)
  @ReadOnly()
  async checkResaleQualification(
    request: CheckResaleQualificationRequest,
    metadata: Metadata,
  ): Promise<CheckResaleQualificationResponse> {
    const result = await this.qualifications.checkFor(request.participantId, callerOf(metadata));
    return {
      allowed: result.allowed,
      denialReason: result.denialReason,
      validUntil: result.validUntil ? toTimestamp(result.validUntil) : undefined,
    };
  }
}
