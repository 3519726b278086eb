import { toTimestamp } from '@cinode/grpc';
import type { Qualification } from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import type { QualificationEntity } from './qualification.entity';
import { qualificationStateAt } from './qualifications.service';

export function toQualificationMessage(
  entity: QualificationEntity,
  now: Date = new Date(),
): Qualification {
  return {
    id: entity.id,
    participantId: entity.participantId,
    state: qualificationStateAt(entity, now),
    validFrom: toTimestamp(entity.validFrom),
    validUntil: toTimestamp(entity.validUntil),
    grantedBy: entity.grantedBy,
    createTime: toTimestamp(entity.createdAt),
    revokeTime: entity.revokedAt ? toTimestamp(entity.revokedAt) : undefined,
    revokeReason: entity.revokeReason ?? '',
  };
}
