import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AllowRoles, callerOf } from '@cinode/auth';
import type {
  ApiKeyServiceController,
  ListApiKeysRequest,
  ListApiKeysResponse,
  RevokeApiKeyRequest,
  RevokeApiKeyResponse,
  RotateApiKeyRequest,
  RotateApiKeyResponse,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import { Audited, ReadOnly } from '@cinode/audit';
import { PARTICIPANT_ROLES, READ_ROLES } from '../roles';
import { toApiKeyMessage } from './api-keys.mapper';
import { ApiKeysService } from './api-keys.service';

const SERVICE = 'ApiKeyService';

@Controller()
export class ApiKeysGrpcController implements ApiKeyServiceController {
  constructor(private readonly keys: ApiKeysService) {}

  @GrpcMethod(SERVICE, 'ListApiKeys')
  @AllowRoles(...READ_ROLES)
  @ReadOnly()
  async listApiKeys(request: ListApiKeysRequest, metadata: Metadata): Promise<ListApiKeysResponse> {
    const { keys, nextPageToken } = await this.keys.list(
      request.participantId,
      request.pageSize,
      request.pageToken,
      callerOf(metadata),
    );
    return { apiKeys: keys.map(toApiKeyMessage), nextPageToken };
  }

  @GrpcMethod(SERVICE, 'RotateApiKey')
  @AllowRoles('operator', ...PARTICIPANT_ROLES)
  @Audited('api_key', 'apiKeyId')
  async rotateApiKey(
    request: RotateApiKeyRequest,
    metadata: Metadata,
  ): Promise<RotateApiKeyResponse> {
    const { entity, key } = await this.keys.rotate(
      request.requestId,
      request.apiKeyId,
      callerOf(metadata),
    );
    return { issuedApiKey: { apiKey: toApiKeyMessage(entity), apiKeySecret: key } };
  }

  @GrpcMethod(SERVICE, 'RevokeApiKey')
  @AllowRoles('operator', ...PARTICIPANT_ROLES)
  @Audited('api_key', 'apiKeyId')
  async revokeApiKey(
    request: RevokeApiKeyRequest,
    metadata: Metadata,
  ): Promise<RevokeApiKeyResponse> {
    return {
      apiKey: toApiKeyMessage(
        await this.keys.revoke(request.apiKeyId, request.reason, callerOf(metadata)),
      ),
    };
  }
}
