import { createHash, randomUUID } from 'node:crypto';
import type { NodeReportEntity } from './report.entity';
import {
  MAX_REPORT_PAYLOAD_BYTES,
  REPORT_SCHEMA_VERSION,
  reportPayloadViolations,
  type ReportPayloadV1,
} from '@cinode/contracts';

export interface EncodedPayload {
  bytes: Buffer;
  sha256: string;
}

/**
 * The payload as it goes into the outbox: checked against the national schema and the national
 * node's size limit first. A report the national node would refuse is caught here, where the
 * operator sees why, not as a rejection hours later (or a row that can never be delivered).
 */
export function encodeReportPayload(payload: ReportPayloadV1): EncodedPayload {
  const violations = reportPayloadViolations(REPORT_SCHEMA_VERSION, payload);
  if (violations.length > 0)
    throw new Error(
      `the built report is invalid: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`,
    );
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  if (bytes.length > MAX_REPORT_PAYLOAD_BYTES)
    throw new Error(
      `the built report is ${bytes.length} bytes, more than the national node accepts (${MAX_REPORT_PAYLOAD_BYTES})`,
    );
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** What a built report is, besides its payload: which report, for when, built when. */
export interface PendingReportFields {
  kind: number;
  specialRequestId: string;
  reportDate: string;
  window: string;
  periodStart: Date;
  periodEnd: Date;
  generatedAt: Date;
  /** For a rebuild: the rejected report it replaces. */
  supersedes?: string;
}

/** A report just built, as the outbox takes it: a new id, pending, due at once. */
export function pendingReport(
  fields: PendingReportFields,
  payload: EncodedPayload,
): NodeReportEntity {
  return {
    reportId: randomUUID(),
    kind: fields.kind,
    specialRequestId: fields.specialRequestId,
    reportDate: fields.reportDate,
    window: fields.window,
    state: 'pending',
    periodStart: fields.periodStart,
    periodEnd: fields.periodEnd,
    generatedAt: fields.generatedAt,
    schemaVersion: REPORT_SCHEMA_VERSION,
    payload: payload.bytes,
    payloadSha256: payload.sha256,
    payloadSize: payload.bytes.length,
    attempts: 0,
    nextAttemptAt: fields.generatedAt,
    lastError: '',
    receiptNumber: null,
    receivedAt: null,
    deliveredAt: null,
    createdAt: fields.generatedAt,
    supersededBy: null,
    supersedes: fields.supersedes ?? null,
  };
}
