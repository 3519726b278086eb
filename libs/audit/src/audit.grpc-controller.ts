import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { AllowRoles } from '@cinode/auth';
import { msToDuration, toTimestamp } from '@cinode/grpc';
import { FieldChecks } from '@cinode/common';
import {
  ChainBreak,
  type AuditRecord,
  type AuditServiceController,
  type ListAuditRecordsRequest,
  type ListAuditRecordsResponse,
  type VerifyAuditChainRequest,
  type VerifyAuditChainResponse,
} from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import { AuditChain, type ChainBreakKind } from './audit-chain';
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
    settlesId: entity.settlesId ?? '',
    chainPosition: entity.chainPosition ?? 0,
    chainHash: entity.chainHash ?? '',
  };
}

const BREAK_KINDS: Record<ChainBreakKind, ChainBreak> = {
  hash_mismatch: ChainBreak.CHAIN_BREAK_HASH_MISMATCH,
  record_missing: ChainBreak.CHAIN_BREAK_RECORD_MISSING,
};

@Controller()
export class AuditGrpcController implements AuditServiceController {
  constructor(
    private readonly query: AuditQueryService,
    private readonly chain: AuditChain,
  ) {}

  @GrpcMethod('AuditService', 'ListAuditRecords')
  @AllowRoles('operator', 'regulator')
  @ReadOnly()
  async listAuditRecords(request: ListAuditRecordsRequest): Promise<ListAuditRecordsResponse> {
    const { records, nextPageToken } = await this.query.list(request);
    return { records: records.map(toAuditRecordMessage), nextPageToken };
  }

  @GrpcMethod('AuditService', 'VerifyAuditChain')
  @AllowRoles('operator', 'regulator')
  @ReadOnly()
  async verifyAuditChain(request: VerifyAuditChainRequest): Promise<VerifyAuditChainResponse> {
    const checks = new FieldChecks();
    if (!Number.isSafeInteger(request.fromPosition) || request.fromPosition < 0)
      checks.add('from_position', 'must be 0 or a positive chain position');
    if (!Number.isSafeInteger(request.maxRecords) || request.maxRecords < 0)
      checks.add('max_records', 'must be 0 (to the end) or a positive count');
    checks.throwIfAny();
    const verdict = await this.chain.verify(request.fromPosition, request.maxRecords);
    return {
      intact: verdict.intact,
      checked: verdict.checked,
      nextPosition: verdict.nextPosition,
      headPosition: verdict.headPosition,
      headHash: verdict.headHash,
      unlinked: verdict.unlinked,
      firstBreak: verdict.firstBreak && {
        kind: BREAK_KINDS[verdict.firstBreak.kind],
        chainPosition: verdict.firstBreak.position,
        recordId: verdict.firstBreak.recordId,
        sequence: verdict.firstBreak.sequence,
        description: verdict.firstBreak.description,
      },
    };
  }
}
