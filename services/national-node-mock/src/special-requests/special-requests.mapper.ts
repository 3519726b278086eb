import { toTimestamp } from '@cinode/grpc';
import {
  SpecialRequestState,
  type SpecialReportRequest,
} from '@cinode/proto/gen/cinode/national/v1/national_node_service';
import type { SpecialRequestEntity } from './special-request.entity';

export function toSpecialRequestMessage(entity: SpecialRequestEntity): SpecialReportRequest {
  return {
    specialRequestId: entity.specialRequestId,
    nodeCode: entity.nodeCode,
    reportTypes: entity.reportTypes,
    periodStart: toTimestamp(entity.periodStart),
    periodEnd: toTimestamp(entity.periodEnd),
    reason: entity.reason,
    issuedAt: toTimestamp(entity.issuedAt),
    deadline: toTimestamp(entity.deadline),
    state: entity.answeredAt
      ? SpecialRequestState.SPECIAL_REQUEST_STATE_ANSWERED
      : SpecialRequestState.SPECIAL_REQUEST_STATE_OPEN,
    answeredReportId: entity.answeredReportId ?? '',
    answeredAt: entity.answeredAt ? toTimestamp(entity.answeredAt) : undefined,
    onTime: entity.answeredAt !== null && entity.answeredAt <= entity.deadline,
  };
}
