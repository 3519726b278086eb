import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { PermissionDeniedError } from '@cinode/common';
import { domainErrorToGrpc } from '@cinode/grpc';
import { retryDelayMs, verdictOf } from './delivery-policy';

const policy = { initialMs: 1_000, maxMs: 60_000 };

function grpcError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

/** The error with an ErrorInfo reason, as the national node answers. */
function withReason(error: ServiceError, reason: string): ServiceError {
  const payload = domainErrorToGrpc(new PermissionDeniedError(reason, error.details), 'national');
  error.metadata = payload.metadata;
  return error;
}

describe(retryDelayMs.name, () => {
  it('doubles per attempt up to the cap when the jitter takes nothing off', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n, policy, () => 0));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('takes at most half off at random, never more', () => {
    expect(retryDelayMs(3, policy, () => 0.999_999)).toBe(2_000);
    for (let i = 0; i < 200; i++) {
      const delay = retryDelayMs(4, policy);
      expect(delay).toBeGreaterThanOrEqual(4_000);
      expect(delay).toBeLessThanOrEqual(8_000);
    }
  });

  it('spreads reports that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(6, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe(verdictOf.name, () => {
  it('retries an outage, a timeout and an internal error', () => {
    for (const code of [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.INTERNAL])
      expect(verdictOf(grpcError(code, 'down'))).toMatchObject({
        kind: 'retry',
        reregister: false,
      });
  });

  it('retries a transport error that is no gRPC status', () => {
    expect(verdictOf(new Error('socket hang up'))).toEqual({
      kind: 'retry',
      grpcStatus: '',
      error: 'socket hang up',
      reregister: false,
    });
  });

  it('registers again when the national node does not know the node or its key', () => {
    expect(verdictOf(grpcError(GrpcStatus.FAILED_PRECONDITION, 'key unknown'))).toMatchObject({
      kind: 'retry',
      grpcStatus: 'FAILED_PRECONDITION',
      reregister: true,
    });
  });

  it('stops on a refusal of the content, the id or the signature', () => {
    for (const code of [GrpcStatus.INVALID_ARGUMENT, GrpcStatus.ALREADY_EXISTS])
      expect(verdictOf(grpcError(code, 'no'))).toEqual({
        kind: 'rejected',
        grpcStatus: GrpcStatus[code],
        error: 'no',
      });
    expect(
      verdictOf(withReason(grpcError(GrpcStatus.PERMISSION_DENIED, 'bad'), 'SIGNATURE_INVALID')),
    ).toMatchObject({ kind: 'rejected', grpcStatus: 'PERMISSION_DENIED' });
  });

  it("retries this node's own token or role being refused: an operator fixes it", () => {
    for (const reason of ['ROLE_NOT_ALLOWED', 'TOKEN_EXPIRED'])
      expect(
        verdictOf(withReason(grpcError(GrpcStatus.PERMISSION_DENIED, 'denied'), reason)),
      ).toMatchObject({ kind: 'retry', grpcStatus: 'PERMISSION_DENIED' });
    expect(verdictOf(grpcError(GrpcStatus.PERMISSION_DENIED, 'denied'))).toMatchObject({
      kind: 'retry',
    });
  });
});
