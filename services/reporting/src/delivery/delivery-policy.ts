import { status as GrpcStatus } from '@grpc/grpc-js';
import { computeBackoff } from '@cinode/events';
import { decodeRichStatus, isGrpcError } from '@cinode/grpc';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential (×2 per attempt) from
 * `initialMs`, capped at `maxMs`, with up to half of it taken off at random so that replicas and
 * reports queued by one outage do not return in lockstep.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return computeBackoff(attempt, { ...policy, multiplier: 2, jitter: 0.5 }, random);
}

/** What to do with a report after a failed SubmitReport. */
export type DeliveryVerdict =
  /** The national node refused the content for good: stop until an operator resends. */
  | { kind: 'rejected'; grpcStatus: string; error: string }
  /** Worth trying again later; `reregister` when the national node lost the node or its key. */
  | { kind: 'retry'; grpcStatus: string; error: string; reregister: boolean };

/**
 * Statuses that mean the report itself is refused, whenever it is sent again: its content
 * (INVALID_ARGUMENT), its id taken by another report (ALREADY_EXISTS), or its signature
 * (PERMISSION_DENIED with SIGNATURE_INVALID). Any other PERMISSION_DENIED is this node's token or
 * role, which an operator fixes: retried, so one misconfiguration cannot lose every due report.
 */
function isPermanent(code: GrpcStatus, reason: string | undefined): boolean {
  if (code === GrpcStatus.INVALID_ARGUMENT || code === GrpcStatus.ALREADY_EXISTS) return true;
  return code === GrpcStatus.PERMISSION_DENIED && reason === 'SIGNATURE_INVALID';
}

export function verdictOf(error: unknown): DeliveryVerdict {
  if (!isGrpcError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'retry', grpcStatus: '', error: message, reregister: false };
  }
  const grpcStatus = GrpcStatus[error.code] ?? String(error.code);
  const message = error.details || error.message;
  if (isPermanent(error.code, decodeRichStatus(error)?.errorInfo?.reason))
    return { kind: 'rejected', grpcStatus, error: message };
  return {
    kind: 'retry',
    grpcStatus,
    error: message,
    reregister: error.code === GrpcStatus.FAILED_PRECONDITION,
  };
}
