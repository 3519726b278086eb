import { createHash } from 'node:crypto';
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
