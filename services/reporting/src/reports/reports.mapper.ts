import { assertUnreachable } from '@cinode/common';
import { toTimestamp } from '@cinode/grpc';
import {
  AttemptOutcome,
  ReportState,
  type DeliveryAttempt,
  type Report,
} from '@cinode/proto/gen/cinode/reporting/v1/reporting_service';
import type { AttemptOutcomeName, DeliveryAttemptEntity } from './delivery-attempt.entity';
import type { NodeReportEntity, ReportStateName } from './report.entity';

export function reportStateOf(state: ReportStateName): ReportState {
  switch (state) {
    case 'pending':
      return ReportState.REPORT_STATE_PENDING;
    case 'delivered':
      return ReportState.REPORT_STATE_DELIVERED;
    case 'rejected':
      return ReportState.REPORT_STATE_REJECTED;
    case 'missed':
      return ReportState.REPORT_STATE_MISSED;
    case 'superseded':
      return ReportState.REPORT_STATE_SUPERSEDED;
    default:
      return assertUnreachable(state, 'report state');
  }
}

/** The state name of a filter; undefined for "every state". */
export function stateNameOf(state: ReportState): ReportStateName | undefined | 'unknown' {
  switch (state) {
    case ReportState.REPORT_STATE_UNSPECIFIED:
      return undefined;
    case ReportState.REPORT_STATE_PENDING:
      return 'pending';
    case ReportState.REPORT_STATE_DELIVERED:
      return 'delivered';
    case ReportState.REPORT_STATE_REJECTED:
      return 'rejected';
    case ReportState.REPORT_STATE_MISSED:
      return 'missed';
    case ReportState.REPORT_STATE_SUPERSEDED:
      return 'superseded';
    default:
      return 'unknown';
  }
}

function outcomeOf(outcome: AttemptOutcomeName): AttemptOutcome {
  switch (outcome) {
    case 'in_flight':
      return AttemptOutcome.ATTEMPT_OUTCOME_IN_FLIGHT;
    case 'delivered':
      return AttemptOutcome.ATTEMPT_OUTCOME_DELIVERED;
    case 'failed':
      return AttemptOutcome.ATTEMPT_OUTCOME_FAILED;
    case 'rejected':
      return AttemptOutcome.ATTEMPT_OUTCOME_REJECTED;
    case 'interrupted':
      return AttemptOutcome.ATTEMPT_OUTCOME_INTERRUPTED;
    default:
      return assertUnreachable(outcome, 'attempt outcome');
  }
}

const timestamp = (value: Date | null) => (value ? toTimestamp(value) : undefined);

export function toReportMessage(entity: NodeReportEntity): Report {
  return {
    reportId: entity.reportId,
    kind: entity.kind,
    reportDate: entity.reportDate,
    window: entity.window,
    state: reportStateOf(entity.state),
    periodStart: timestamp(entity.periodStart),
    periodEnd: timestamp(entity.periodEnd),
    generatedAt: timestamp(entity.generatedAt),
    schemaVersion: entity.schemaVersion,
    payloadSha256: entity.payloadSha256 ?? '',
    payloadSize: entity.payloadSize,
    attempts: entity.attempts,
    nextAttemptAt: entity.state === 'pending' ? timestamp(entity.nextAttemptAt) : undefined,
    lastError: entity.lastError,
    receiptNumber: entity.receiptNumber ?? '',
    receivedAt: timestamp(entity.receivedAt),
    deliveredAt: timestamp(entity.deliveredAt),
    createdAt: toTimestamp(entity.createdAt),
    specialRequestId: entity.specialRequestId,
    supersededBy: entity.supersededBy ?? '',
    supersedes: entity.supersedes ?? '',
  };
}

export function toAttemptMessage(entity: DeliveryAttemptEntity): DeliveryAttempt {
  return {
    attempt: entity.attempt,
    startedAt: toTimestamp(entity.startedAt),
    finishedAt: timestamp(entity.finishedAt),
    outcome: outcomeOf(entity.outcome),
    grpcStatus: entity.grpcStatus,
    error: entity.error,
  };
}
