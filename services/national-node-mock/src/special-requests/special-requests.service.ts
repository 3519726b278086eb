import { Injectable } from '@nestjs/common';
import type { Caller } from '@cinode/auth';
import {
  FieldChecks,
  NotFoundError,
  PageTokens,
  resolvePageSize,
  type PagePosition,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import { InjectConfig } from '@cinode/kit';
import {
  ReportType,
  SpecialRequestState,
  type IssueSpecialReportRequestRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { Timestamp } from '@cinode/proto/gen/google/protobuf/timestamp';
import type { MockConfig } from '../config';
import { contentSha256 } from '../content-hash';
import { ErrorReason } from '../errors';
import { NODE_CODE_RULES } from '../nodes/nodes.service';
import { actsFor } from '../nodes/node-access';
import { NodesRepository } from '../nodes/nodes.repository';
import type { SpecialRequestEntity } from './special-request.entity';
import { SpecialRequestsRepository } from './special-requests.repository';

export const REPORT_TYPES = [
  ReportType.REPORT_TYPE_BASE_INFORMATION,
  ReportType.REPORT_TYPE_COMPUTE_INFORMATION,
  ReportType.REPORT_TYPE_SECURITY_INFORMATION,
] as const;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** The ids this mock assigns; a report naming anything else names no request. */
export const SPECIAL_REQUEST_ID_PATTERN = /^SR\d{14,}$/;

/** Checks the report types of a request: at least one, each known, none twice. */
export function checkReportTypes(checks: FieldChecks, types: readonly number[]): number[] {
  if (types.length === 0) {
    checks.add('report_types', 'must name at least one report type');
    return [];
  }
  types.forEach((type, i) => {
    if (!(REPORT_TYPES as readonly number[]).includes(type))
      checks.add(`report_types[${i}]`, `unknown value ${type}`);
    else if (types.indexOf(type) !== i) checks.add(`report_types[${i}]`, 'is repeated');
  });
  return [...new Set(types)].sort((a, b) => a - b);
}

/** The open/answered filter of a listing; undefined for every state, 'unknown' for a bad value. */
function openFilterOf(state: SpecialRequestState): boolean | undefined | 'unknown' {
  switch (state) {
    case SpecialRequestState.SPECIAL_REQUEST_STATE_UNSPECIFIED:
      return undefined;
    case SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN:
      return true;
    case SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED:
      return false;
    default:
      return 'unknown';
  }
}

/** Special report requests (特殊时间报送): issued by the national node, answered by a node's report. */
@Injectable()
export class SpecialRequestsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly requests: SpecialRequestsRepository,
    private readonly nodes: NodesRepository,
    private readonly pageTokens: PageTokens,
    @InjectConfig() private readonly config: MockConfig,
  ) {}

  async issue(
    request: IssueSpecialReportRequestRequest,
    caller: Caller,
    now: Date = new Date(),
  ): Promise<SpecialRequestEntity> {
    const checks = new FieldChecks()
      .text('node_code', request.nodeCode, NODE_CODE_RULES)
      .timestamp('period_start', request.periodStart)
      .timestamp('period_end', request.periodEnd)
      .timestamp('deadline', request.deadline, { required: false })
      .text('reason', request.reason, { max: 200 })
      .text('request_id', request.requestId, {
        required: false,
        max: 64,
        pattern: REQUEST_ID_PATTERN,
        patternHint: "must be letters, digits, '.', '_', ':' or '-'",
      });
    const reportTypes = checkReportTypes(checks, request.reportTypes);
    if (checks.ok) {
      const start = fromTimestamp(request.periodStart!);
      const end = fromTimestamp(request.periodEnd!);
      if (end <= start) checks.add('period_end', 'must be after period_start');
      if (request.deadline && fromTimestamp(request.deadline) <= now)
        checks.add('deadline', 'must be in the future');
    }
    checks.throwIfAny();
    if (!(await this.nodes.findByCode(request.nodeCode)))
      throw new NotFoundError(
        ErrorReason.NODE_NOT_FOUND,
        `node ${request.nodeCode} is not registered`,
      );
    const content = {
      nodeCode: request.nodeCode,
      reportTypes,
      periodStart: fromTimestamp(request.periodStart!),
      periodEnd: fromTimestamp(request.periodEnd!),
      reason: request.reason,
    };
    const deadline = request.deadline ? fromTimestamp(request.deadline) : undefined;
    const outcome = await this.uow.idempotentInsert(
      request.requestId
        ? {
            scope: caller.subject,
            requestId: request.requestId,
            operation: 'IssueSpecialReportRequest',
            fingerprint: contentSha256({ ...content, deadline: deadline ?? null }),
          }
        : undefined,
      async (tx) => {
        const issued = await this.requests.insert(tx, {
          ...content,
          deadline,
          defaultDeadlineMs: this.config.SPECIAL_REQUEST_DEADLINE_MS,
        });
        return { result: issued, objectId: issued.specialRequestId };
      },
    );
    if (outcome.created) return outcome.result;
    const existing = await this.requests.find(outcome.objectId);
    if (!existing) throw new Error(`special request ${outcome.objectId} cannot be read`);
    return existing;
  }

  async list(
    nodeCode: string,
    state: SpecialRequestState,
    issuedSinceInput: Timestamp | undefined,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ requests: SpecialRequestEntity[]; nextPageToken: string }> {
    const checks = new FieldChecks()
      .text('node_code', nodeCode, NODE_CODE_RULES)
      .timestamp('issued_since', issuedSinceInput, { required: false });
    const open = openFilterOf(state);
    if (open === 'unknown') checks.add('state', `unknown value ${state}`);
    checks.throwIfAny();
    const node = await this.nodes.findByCode(nodeCode);
    // A node's service sees only the requests issued to its own node.
    if (!node || !actsFor(caller, node))
      throw new NotFoundError(ErrorReason.NODE_NOT_FOUND, `node ${nodeCode} is not registered`);
    const filter = open === 'unknown' ? undefined : open;
    const issuedSince = issuedSinceInput ? fromTimestamp(issuedSinceInput) : undefined;
    const limit = resolvePageSize(pageSize);
    const filterKey = `special-requests:${nodeCode}:${state}:${issuedSince?.toISOString() ?? ''}`;
    const after: PagePosition | undefined = this.pageTokens.decode(pageToken, filterKey);
    const rows = await this.requests.list(nodeCode, filter, issuedSince, limit, after);
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (r) => ({ after: r.issuedAt.toISOString(), afterId: r.specialRequestId }),
      filterKey,
    );
    return { requests: page, nextPageToken };
  }
}
