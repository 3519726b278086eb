import { toTimestamp } from '@cinode/grpc';
import type { IdentifierFiling } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { IdentifierFilingEntity } from './identifier-filing.entity';

export function toFilingMessage(entity: IdentifierFilingEntity): IdentifierFiling {
  return {
    filingNumber: entity.filingNumber,
    identifier: entity.identifier,
    nodeCode: entity.nodeCode,
    objectType: entity.objectType,
    objectName: entity.objectName,
    ownerName: entity.ownerName,
    ownerCreditCode: entity.ownerCreditCode,
    attributes: entity.attributes,
    allocatedAt: toTimestamp(entity.allocatedAt),
    filedAt: toTimestamp(entity.filedAt),
  };
}
