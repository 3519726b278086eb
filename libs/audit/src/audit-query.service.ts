import { Injectable } from '@nestjs/common';
import { FieldChecks, ValidationError, resolvePageSize, PageTokens } from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import type { ListAuditRecordsRequest } from '@cinode/proto/gen/cinode/audit/v1/audit_service';
import { AuditRecordEntity } from './audit-record.entity';

const OUTCOME = /^[A-Z_]{2,32}$/;

/** Reads the trail for operators and regulators. */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pageTokens: PageTokens,
  ) {}

  async list(
    request: ListAuditRecordsRequest,
  ): Promise<{ records: AuditRecordEntity[]; nextPageToken: string }> {
    const limit = resolvePageSize(request.pageSize);
    const checks = new FieldChecks()
      .text('actor', request.actor, { required: false, max: 128 })
      .text('object_type', request.objectType, { required: false, max: 50 })
      .text('object_id', request.objectId, { required: false, max: 128 })
      .text('method', request.method, { required: false, max: 200 })
      .text('outcome', request.outcome, {
        required: false,
        max: 32,
        pattern: OUTCOME,
        patternHint: 'must be a status code name such as PERMISSION_DENIED',
      });
    if (request.objectId && !request.objectType)
      checks.add('object_type', 'is required with object_id');
    checks
      .timestamp('start_time', request.startTime, { required: false })
      .timestamp('end_time', request.endTime, { required: false });
    checks.throwIfAny();
    const start = request.startTime ? fromTimestamp(request.startTime) : undefined;
    const end = request.endTime ? fromTimestamp(request.endTime) : undefined;
    if (start && end && end.getTime() <= start.getTime())
      checks.add('end_time', 'must be after start_time');
    checks.throwIfAny();

    const filter = {
      actor: request.actor,
      objectType: request.objectType,
      objectId: request.objectId,
      method: request.method,
      outcome: request.outcome,
      start: start?.toISOString() ?? '',
      end: end?.toISOString() ?? '',
    };
    const filterKey = JSON.stringify(['audit', filter]);
    const after = this.pageTokens.decode(request.pageToken, filterKey);
    const afterSequence = after ? Number(after.after) : undefined;
    if (afterSequence !== undefined && !Number.isSafeInteger(afterSequence))
      throw new ValidationError([
        { field: 'page_token', description: 'is not a token issued for this query' },
      ]);

    const query = this.uow
      .manager()
      .getRepository(AuditRecordEntity)
      .createQueryBuilder('a')
      .orderBy('a.sequence', 'DESC')
      .limit(limit + 1);
    if (filter.actor) query.andWhere('a.actor = :actor', { actor: filter.actor });
    if (filter.objectType) query.andWhere('a.object_type = :ot', { ot: filter.objectType });
    if (filter.objectId) query.andWhere('a.object_id = :oid', { oid: filter.objectId });
    if (filter.method) query.andWhere('a.method = :method', { method: filter.method });
    if (filter.outcome) query.andWhere('a.outcome = :outcome', { outcome: filter.outcome });
    if (start) query.andWhere('a.occurred_at >= :start', { start });
    if (end) query.andWhere('a.occurred_at < :end', { end });
    if (afterSequence !== undefined)
      query.andWhere('a.sequence < :after', { after: afterSequence });
    const rows = await query.getMany();
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (r) => ({ after: String(r.sequence), afterId: r.id }),
      filterKey,
    );
    return { records: page, nextPageToken };
  }
}
