import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  CertificationServiceController,
  CertifyParticipantRequest,
  CertifyParticipantResponse,
  ListCertificationEventsRequest,
  ListCertificationEventsResponse,
  ReinstateParticipantRequest,
  ReinstateParticipantResponse,
  RejectParticipantRequest,
  RejectParticipantResponse,
  RevokeParticipantRequest,
  RevokeParticipantResponse,
  StartReviewRequest,
  StartReviewResponse,
  SuspendParticipantRequest,
  SuspendParticipantResponse,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { toApiKeyMessage } from '../api-keys/api-keys.mapper';
import { Audited, ReadOnly } from '@cinode/audit';
import {
  toCertificationEventMessage,
  toParticipantMessage,
} from '../participants/participants.mapper';
import { READ_ROLES } from '../roles';
import { CertificationService, type CertificationAction } from './certification.service';

const SERVICE = 'CertificationService';

@Controller()
export class CertificationGrpcController implements CertificationServiceController {
  constructor(private readonly certification: CertificationService) {}

  private async move(
    request: { participantId: string; reason: string },
    action: CertificationAction,
    metadata: Metadata,
  ) {
    return this.certification.transition(
      request.participantId,
      action,
      request.reason,
      callerOf(metadata),
    );
  }

  @GrpcMethod(SERVICE, 'StartReview')
  @AllowRoles('operator')
  @Audited('participant', 'participantId')
  async startReview(request: StartReviewRequest, metadata: Metadata): Promise<StartReviewResponse> {
    return {
      participant: toParticipantMessage(
        (await this.move(request, 'start_review', metadata)).participant,
      ),
    };
  }

  @GrpcMethod(SERVICE, 'CertifyParticipant')
  @AllowRoles('operator')
  @Audited('participant', 'participantId')
  async certifyParticipant(
    request: CertifyParticipantRequest,
    metadata: Metadata,
  ): Promise<CertifyParticipantResponse> {
    const { participant, issuedKey } = await this.certification.certify(
      request.participantId,
      request.reason,
      request.requestId,
      callerOf(metadata),
    );
    return {
      participant: toParticipantMessage(participant),
      issuedApiKey: issuedKey
        ? { apiKey: toApiKeyMessage(issuedKey.entity), apiKeySecret: issuedKey.key }
        : undefined,
    };
  }

  @GrpcMethod(SERVICE, 'RejectParticipant')
  @AllowRoles('operator')
  @Audited('participant', 'participantId')
  async rejectParticipant(
    request: RejectParticipantRequest,
    metadata: Metadata,
  ): Promise<RejectParticipantResponse> {
    return {
      participant: toParticipantMessage((await this.move(request, 'reject', metadata)).participant),
    };
  }

  @GrpcMethod(SERVICE, 'SuspendParticipant')
  @AllowRoles('operator')
  @Audited('participant', 'participantId')
  async suspendParticipant(
    request: SuspendParticipantRequest,
    metadata: Metadata,
  ): Promise<SuspendParticipantResponse> {
    return {
      participant: toParticipantMessage(
        (await this.move(request, 'suspend', metadata)).participant,
      ),
    };
  }

  @GrpcMethod(SERVICE, 'ReinstateParticipant')
  @AllowRoles('operator')
  @Audited('participant', 'participantId')
  async reinstateParticipant(
    request: ReinstateParticipantRequest,
    metadata: Metadata,
  ): Promise<ReinstateParticipantResponse> {
    return {
      participant: toParticipantMessage(
        (await this.move(request, 'reinstate', metadata)).participant,
      ),
    };
  }

  @GrpcMethod(SERVICE, 'RevokeParticipant')
  @AllowRoles('operator')
  @Audited('participant', 'participantId')
  async revokeParticipant(
    request: RevokeParticipantRequest,
    metadata: Metadata,
  ): Promise<RevokeParticipantResponse> {
    return {
      participant: toParticipantMessage((await this.move(request, 'revoke', metadata)).participant),
    };
  }

  @GrpcMethod(SERVICE, 'ListCertificationEvents')
  @AllowRoles(...READ_ROLES)
  @ReadOnly()
  async listCertificationEvents(
    request: ListCertificationEventsRequest,
    metadata: Metadata,
  ): Promise<ListCertificationEventsResponse> {
    const { events, nextPageToken } = await this.certification.listEvents(
      request.participantId,
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    return { events: events.map(toCertificationEventMessage), nextPageToken };
  }
}
