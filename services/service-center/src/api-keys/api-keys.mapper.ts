import { toTimestamp } from '@cinode/grpc';
import type { ApiKey } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import type { ApiKeyEntity } from './api-key.entity';

export function toApiKeyMessage(entity: ApiKeyEntity): ApiKey {
  return {
    id: entity.id,
    participantId: entity.participantId,
    prefix: entity.prefix,
    state: entity.state,
    createTime: toTimestamp(entity.createdAt),
    lastUsedTime: entity.lastUsedAt ? toTimestamp(entity.lastUsedAt) : undefined,
    revokeTime: entity.revokedAt ? toTimestamp(entity.revokedAt) : undefined,
  };
}
