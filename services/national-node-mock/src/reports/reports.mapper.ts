import { toTimestamp } from '@cinode/grpc';
import type { Report } from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { ReportEntity } from './report.entity';

export function toReportMessage(entity: ReportEntity): Report {
  return {
    reportId: entity.reportId,
    nodeCode: entity.nodeCode,
    kind: entity.kind,
    specialRequestId: entity.specialRequestId,
    periodStart: toTimestamp(entity.periodStart),
    periodEnd: toTimestamp(entity.periodEnd),
    generatedAt: toTimestamp(entity.generatedAt),
    schemaVersion: entity.schemaVersion,
    contentType: entity.contentType,
    payload: entity.payload ?? Buffer.alloc(0),
    payloadSize: entity.payloadSize,
    payloadSha256: entity.payloadSha256,
    receiptNumber: entity.receiptNumber,
    receivedAt: toTimestamp(entity.receivedAt),
    signingKeyId: entity.signingKeyId,
  };
}
