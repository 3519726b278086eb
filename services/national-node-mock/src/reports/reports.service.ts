import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  PermissionDeniedError,
  FieldChecks,
  NotFoundError,
  resolvePageSize,
  PageTokens,
  parseStrictJson,
  ValidationError,
} from '@cinode/common';
import { UnitOfWork } from '@cinode/database';
import { fromTimestamp } from '@cinode/grpc';
import {
  ReportKind,
  type SubmitReportRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import {
  MAX_REPORT_PAYLOAD_BYTES,
  reportPayloadViolations,
  reportSigningMessage,
} from '@cinode/contracts';
import { contentSha256 } from '../content-hash';
import { ErrorReason, NATIONAL_SCOPE } from '../errors';
import { NODE_CODE_RULES } from '../nodes/nodes.service';
import type { Caller } from '@cinode/auth';
import { actsFor, assertActsFor, ownerScopeOf } from '../nodes/node-access';
import { NodesRepository } from '../nodes/nodes.repository';
import { ED25519_SIGNATURE_BYTES, verifyEd25519 } from '../signing-keys/report-signature';
import { SigningKeysRepository } from '../signing-keys/signing-keys.repository';
import { SpecialRequestsRepository } from '../special-requests/special-requests.repository';
import { SPECIAL_REQUEST_ID_PATTERN } from '../special-requests/special-requests.service';
import type { ReportEntity } from './report.entity';
import { ReportsRepository } from './reports.repository';

export const MAX_PAYLOAD_BYTES = MAX_REPORT_PAYLOAD_BYTES;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KINDS = [ReportKind.REPORT_KIND_DAILY, ReportKind.REPORT_KIND_SPECIAL];

@Injectable()
export class ReportsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly reports: ReportsRepository,
    private readonly nodes: NodesRepository,
    private readonly signingKeys: SigningKeysRepository,
    private readonly specialRequests: SpecialRequestsRepository,
    private readonly pageTokens: PageTokens,
  ) {}

  async submit(
    request: SubmitReportRequest,
    caller: Caller,
  ): Promise<{ report: ReportEntity; created: boolean }> {
    const checks = new FieldChecks()
      .text('report_id', request.reportId, {
        max: 36,
        pattern: UUID_PATTERN,
        patternHint: 'must be a UUID',
      })
      .text('node_code', request.nodeCode, NODE_CODE_RULES)
      .enumValue('kind', request.kind, KINDS)
      .timestamp('period_start', request.periodStart)
      .timestamp('period_end', request.periodEnd)
      .timestamp('generated_at', request.generatedAt)
      .text('schema_version', request.schemaVersion, { max: 32 });
    if (request.kind === ReportKind.REPORT_KIND_SPECIAL) {
      checks.text('special_request_id', request.specialRequestId, {
        max: 64,
        pattern: SPECIAL_REQUEST_ID_PATTERN,
        patternHint: 'must be the id of a special report request (SR followed by digits)',
      });
    } else if (request.specialRequestId !== '') {
      checks.add('special_request_id', 'must be empty for daily reports');
    }
    if (request.contentType !== 'application/json')
      checks.add('content_type', 'must be "application/json"');
    if (
      request.periodStart &&
      request.periodEnd &&
      fromTimestamp(request.periodStart) >= fromTimestamp(request.periodEnd)
    ) {
      checks.add('period_end', 'must be after period_start');
    }
    const payload = Buffer.from(request.payload);
    if (payload.length === 0) checks.add('payload', 'is required');
    else if (payload.length > MAX_PAYLOAD_BYTES)
      checks.add('payload', `must be at most ${MAX_PAYLOAD_BYTES} bytes`);
    if (request.signature.length !== ED25519_SIGNATURE_BYTES)
      checks.add('signature', `must be an Ed25519 signature of ${ED25519_SIGNATURE_BYTES} bytes`);
    checks.text('signing_key_id', request.signingKeyId, {
      max: 64,
      pattern: /^[0-9a-f]{64}$/,
      patternHint: 'must be the lower-case hex key id RegisterReportSigningKey returned',
    });
    checks.throwIfAny();

    const reportId = request.reportId.toLowerCase();
    const payloadSha256 = createHash('sha256').update(payload).digest('hex');
    const envelope = {
      reportId,
      nodeCode: request.nodeCode,
      kind: request.kind,
      specialRequestId: request.specialRequestId,
      periodStart: fromTimestamp(request.periodStart!),
      periodEnd: fromTimestamp(request.periodEnd!),
      generatedAt: fromTimestamp(request.generatedAt!),
      schemaVersion: request.schemaVersion,
      contentType: request.contentType,
    };
    // Authenticity first: nothing of an unsigned or tampered payload is looked at further.
    const key = await this.signingKeys.find(request.signingKeyId);
    // A key of this node vouches for the node (a key's node must exist); otherwise say which is missing.
    if (!key || key.nodeCode !== request.nodeCode) {
      const node = await this.nodes.findByCode(request.nodeCode);
      if (!node)
        throw new FailedPreconditionError(
          ErrorReason.NODE_NOT_REGISTERED,
          `node ${request.nodeCode} is not registered`,
        );
      assertActsFor(caller, node);
      throw new FailedPreconditionError(
        ErrorReason.SIGNING_KEY_NOT_REGISTERED,
        `signing key ${request.signingKeyId} is not registered for node ${request.nodeCode}`,
      );
    }
    // Only the node's own services report for it.
    assertActsFor(caller, { nodeCode: key.nodeCode, ownerKeyId: key.nodeOwnerKeyId });
    const signed = reportSigningMessage({ ...envelope, payloadSha256 });
    if (!verifyEd25519(key.publicKey, signed, request.signature))
      throw new PermissionDeniedError(
        ErrorReason.SIGNATURE_INVALID,
        `the signature of report ${reportId} does not verify against key ${key.keyId}`,
      );
    // Only now, signed by the node, is the payload read: as I-JSON, so it means one thing to every
    // reader the report goes on to (no name given twice, no lone surrogate, no control character).
    const parsed = readPayload(payload);
    const special =
      request.kind === ReportKind.REPORT_KIND_SPECIAL
        ? await this.specialRequests.find(request.specialRequestId)
        : undefined;
    if (request.kind === ReportKind.REPORT_KIND_SPECIAL) {
      if (!special || special.nodeCode !== request.nodeCode)
        throw new NotFoundError(
          ErrorReason.SPECIAL_REQUEST_NOT_FOUND,
          `special report request ${request.specialRequestId} was not issued to node ${request.nodeCode}`,
        );
      // The answer covers the period asked for, exactly.
      const periodChecks = new FieldChecks();
      if (fromTimestamp(request.periodStart!).getTime() !== special.periodStart.getTime())
        periodChecks.add(
          'period_start',
          `must be the request's period_start, ${special.periodStart.toISOString()}`,
        );
      if (fromTimestamp(request.periodEnd!).getTime() !== special.periodEnd.getTime())
        periodChecks.add(
          'period_end',
          `must be the request's period_end, ${special.periodEnd.toISOString()}`,
        );
      periodChecks.throwIfAny();
    }
    const violations = reportPayloadViolations(request.schemaVersion, parsed);
    if (violations.length > 0) throw new ValidationError(violations);
    const hash = contentSha256({ ...envelope, payloadSha256 });
    // The same report id with the same content again is a retried delivery: the same receipt.
    const outcome = await this.uow.idempotentInsert(
      {
        scope: NATIONAL_SCOPE,
        requestId: `report:${reportId}`,
        operation: 'SubmitReport',
        fingerprint: hash,
      },
      async (tx) => {
        const report = await this.reports.insert(tx, {
          ...envelope,
          payload,
          payloadSize: payload.length,
          payloadSha256,
          contentSha256: hash,
          signingKeyId: key.keyId,
        });
        return { result: report, objectId: report.reportId };
      },
      {
        conflict: async () => {
          const existing = await this.reports.find(reportId, false);
          return new AlreadyExistsError(
            ErrorReason.REPORT_ID_CONFLICT,
            `report ${reportId} was received before with different content`,
            { metadata: { receipt_number: existing?.receiptNumber ?? '' } },
          );
        },
      },
    );
    if (outcome.created) return { report: outcome.result, created: true };
    const existing = await this.reports.find(outcome.objectId, false);
    if (!existing) throw new Error(`report ${reportId} was received but cannot be read`);
    return { report: existing, created: false };
  }

  /** One report; a node's service sees only its own node's (another's is not found). */
  async get(reportId: string, caller: Caller): Promise<ReportEntity> {
    new FieldChecks()
      .text('report_id', reportId, {
        max: 36,
        pattern: UUID_PATTERN,
        patternHint: 'must be a UUID',
      })
      .throwIfAny();
    const report = await this.reports.find(reportId.toLowerCase(), true);
    const node = report && (await this.nodes.findByCode(report.nodeCode));
    if (!report || !node || !actsFor(caller, node))
      throw new NotFoundError(ErrorReason.REPORT_NOT_FOUND, `report ${reportId} was not received`);
    return report;
  }

  async list(
    nodeCode: string,
    kind: ReportKind,
    pageSize: number,
    pageToken: string,
    caller: Caller,
  ): Promise<{ reports: ReportEntity[]; nextPageToken: string }> {
    const checks = new FieldChecks().text('node_code', nodeCode, {
      ...NODE_CODE_RULES,
      required: false,
    });
    if (kind !== ReportKind.REPORT_KIND_UNSPECIFIED && !KINDS.includes(kind))
      checks.add('kind', `unknown value ${kind}`);
    checks.throwIfAny();
    const limit = resolvePageSize(pageSize);
    const owner = ownerScopeOf(caller);
    const filterKey = `reports:${nodeCode}:${kind}:${owner ?? ''}`;
    const rows = await this.reports.list(
      nodeCode,
      kind,
      limit,
      this.pageTokens.decode(pageToken, filterKey),
      owner,
    );
    const { page, nextPageToken } = this.pageTokens.pageOf(
      rows,
      limit,
      (r) => ({ after: r.receivedAt.toISOString(), afterId: r.reportId }),
      filterKey,
    );
    return { reports: page, nextPageToken };
  }
}

/** Refuses bytes that are not UTF-8, instead of reading them as U+FFFD (the signed bytes stay). */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as a JSON object read by `parseStrictJson`; INVALID_ARGUMENT naming where it is not. */
function readPayload(payload: Buffer): object {
  let text: string;
  try {
    text = STRICT_UTF8.decode(payload);
  } catch {
    throw new ValidationError([{ field: 'payload', description: 'must be UTF-8' }]);
  }
  const read = parseStrictJson(text);
  if (!read.ok)
    throw new ValidationError([
      {
        field: read.path === '$' ? 'payload' : `payload${read.path.slice(1)}`,
        description: read.reason,
      },
    ]);
  const value = read.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError([{ field: 'payload', description: 'must be a JSON object' }]);
  return value;
}
