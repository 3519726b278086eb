import { toTimestamp } from '@cinode/grpc';
import type {
  CertificationEvent,
  IndividualDetails,
  OrganizationDetails,
  Participant,
} from '@cinode/proto/gen/cinode/participant/v1/participant_service';
import type { ParticipantTransitionEntity } from './participant-transition.entity';
import type { IndividualRecord, OrganizationRecord, ParticipantEntity } from './participant.entity';

export function toOrganizationDetails(
  record: OrganizationRecord | null,
): OrganizationDetails | undefined {
  if (!record) return undefined;
  return {
    creditCode: record.creditCode,
    address: record.address,
    contactPerson: { ...record.contactPerson },
    responsiblePerson: { ...record.responsiblePerson },
  };
}

export function toIndividualDetails(
  record: IndividualRecord | null,
): IndividualDetails | undefined {
  return record ? { ...record } : undefined;
}

export function toParticipantMessage(entity: ParticipantEntity): Participant {
  return {
    id: entity.id,
    kind: entity.kind,
    userCategory: entity.userCategory,
    name: entity.name,
    state: entity.state,
    organization: toOrganizationDetails(entity.organization),
    individual: toIndividualDetails(entity.individual),
    createTime: toTimestamp(entity.createdAt),
    updateTime: toTimestamp(entity.updatedAt),
  };
}

export function toCertificationEventMessage(
  entity: ParticipantTransitionEntity,
): CertificationEvent {
  return {
    id: entity.id,
    participantId: entity.participantId,
    fromState: entity.fromState,
    toState: entity.toState,
    actor: entity.actor,
    reason: entity.reason,
    createTime: toTimestamp(entity.createdAt),
  };
}
