import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { AllowRoles } from '@cinode/auth';
import { msToDuration, toTimestamp } from '@cinode/grpc';
import type {
  AuditRecord,
  AuditServiceController,
  ListAuditRecordsRequest,
  ListAuditRecordsResponse,
} from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import type { AuditRecordEntity } from './audit-record.entity';
import { AuditQueryService } from './audit-query.service';
import { ReadOnly } from './audited.decorator';

export function toAuditRecordMessage(entity: AuditRecordEntity): AuditRecord {
  return {
    id: entity.id,
    sequence: entity.sequence,
    service: entity.service,
    method: entity.method,
    objectType: entity.objectType,
    objectId: entity.objectId,
    actor: entity.actor,
    actorRoles: entity.actorRoles ? entity.actorRoles.split(',') : [],
    tenant: entity.tenant,
    requestId: entity.requestId,
    peer: entity.peer,
    outcome: entity.outcome,
    reason: entity.reason,
    committed: entity.committed,
    occurTime: toTimestamp(entity.occurredAt),
    duration: msToDuration(entity.durationMs),
    traceId: entity.traceId,
  };
}

@Controller()
export class AuditGrpcController implements AuditServiceController {
  constructor(private readonly query: AuditQueryService) {}

  @GrpcMethod('AuditService', 'ListAuditRecords')
  @AllowRoles('operator', 'regulator')
  @ReadOnly()
  async listAuditRecords(request: ListAuditRecordsRequest): Promise<ListAuditRecordsResponse> {
    const { records, nextPageToken } = await this.query.list(request);
    return { records: records.map(toAuditRecordMessage), nextPageToken };
  }
}
