import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AllowPublic, AllowRoles, callerOf, optionalCallerOf } from '@cinode/auth';
import type {
  CreateParticipantRequest,
  CreateParticipantResponse,
  GetParticipantRequest,
  GetParticipantResponse,
  ListParticipantsRequest,
  ListParticipantsResponse,
  ParticipantServiceController,
  ResubmitParticipantRequest,
  ResubmitParticipantResponse,
  UpdateParticipantRequest,
  UpdateParticipantResponse,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { Audited, ReadOnly } from '@cinode/audit';
import { PARTICIPANT_ROLES, READ_ROLES } from '../roles';
import { toParticipantMessage } from './participants.mapper';
import { ParticipantsService } from './participants.service';

const SERVICE = 'ParticipantService';

@Controller()
export class ParticipantsGrpcController implements ParticipantServiceController {
  constructor(private readonly participants: ParticipantsService) {}

  @GrpcMethod(SERVICE, 'CreateParticipant')
  @AllowPublic()
  @Audited('participant', 'created', 'participant.id')
  async createParticipant(
    request: CreateParticipantRequest,
    metadata: Metadata,
  ): Promise<CreateParticipantResponse> {
    return {
      participant: toParticipantMessage(
        await this.participants.create(request, optionalCallerOf(metadata)),
      ),
    };
  }

  @GrpcMethod(SERVICE, 'GetParticipant')
  @AllowRoles(...READ_ROLES)
  @ReadOnly()
  async getParticipant(
    request: GetParticipantRequest,
    metadata: Metadata,
  ): Promise<GetParticipantResponse> {
    return {
      participant: toParticipantMessage(
        await this.participants.get(request.participantId, callerOf(metadata)),
      ),
    };
  }

  @GrpcMethod(SERVICE, 'ListParticipants')
  @AllowRoles(...READ_ROLES)
  @ReadOnly()
  async listParticipants(
    request: ListParticipantsRequest,
    metadata: Metadata,
  ): Promise<ListParticipantsResponse> {
    const { participants, nextPageToken } = await this.participants.list(
      request,
      callerOf(metadata),
    );
    return { participants: participants.map(toParticipantMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'UpdateParticipant')
  @AllowRoles('operator', ...PARTICIPANT_ROLES)
  @Audited('participant', 'participant.id')
  async updateParticipant(
    request: UpdateParticipantRequest,
    metadata: Metadata,
  ): Promise<UpdateParticipantResponse> {
    const updated = await this.participants.update(
      request.participant,
      request.updateMask,
      callerOf(metadata),
    );
    return { participant: toParticipantMessage(updated) };
  }

  @GrpcMethod(SERVICE, 'ResubmitParticipant')
  @AllowRoles('operator', ...PARTICIPANT_ROLES)
  @Audited('participant', 'participantId')
  async resubmitParticipant(
    request: ResubmitParticipantRequest,
    metadata: Metadata,
  ): Promise<ResubmitParticipantResponse> {
    return {
      participant: toParticipantMessage(
        await this.participants.resubmit(request, callerOf(metadata)),
      ),
    };
  }
}
