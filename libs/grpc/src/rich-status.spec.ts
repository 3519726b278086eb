import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import {
  DomainError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  ValidationError,
  type ErrorKind,
} from '@cinode/common';
import { ErrorInfo } from '@cinode/proto/gen/google/rpc/error_details';
import { Status } from '@cinode/proto/gen/google/rpc/status';
import { statusCodeOfError } from './grpc-exception.filter';
import {
  STATUS_DETAILS_KEY,
  decodeRichStatus,
  domainErrorToGrpc,
  grpcCodeOf,
  internalErrorToGrpc,
  statusToGrpc,
} from './rich-status';

describe(grpcCodeOf.name, () => {
  const kinds: Array<[ErrorKind, GrpcStatus]> = [
    ['INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT],
    ['NOT_FOUND', GrpcStatus.NOT_FOUND],
    ['ALREADY_EXISTS', GrpcStatus.ALREADY_EXISTS],
    ['FAILED_PRECONDITION', GrpcStatus.FAILED_PRECONDITION],
    ['PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED],
    ['UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED],
    ['RESOURCE_EXHAUSTED', GrpcStatus.RESOURCE_EXHAUSTED],
    ['ABORTED', GrpcStatus.ABORTED],
    ['UNAVAILABLE', GrpcStatus.UNAVAILABLE],
    ['DEADLINE_EXCEEDED', GrpcStatus.DEADLINE_EXCEEDED],
  ];

  it.each(kinds)('maps %s to the canonical status of the same name', (kind, code) => {
    expect(grpcCodeOf(kind)).toBe(code);
    expect(GrpcStatus[grpcCodeOf(kind)]).toBe(kind);
  });

  it('throws for a kind outside the union instead of guessing', () => {
    expect(() => grpcCodeOf('TEAPOT' as ErrorKind)).toThrow();
  });
});

describe(domainErrorToGrpc.name, () => {
  it('carries ErrorInfo, BadRequest violations and the message, decodable by the client', () => {
    const payload = domainErrorToGrpc(
      new ValidationError([
        { field: 'node.code', description: 'must be 6 characters' },
        { field: 'name', description: 'is required' },
      ]),
      'participants.cinode',
    );
    expect(payload.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const decoded = decodeRichStatus(payload);
    expect(decoded).toEqual({
      code: GrpcStatus.INVALID_ARGUMENT,
      message: payload.details,
      errorInfo: { reason: 'INVALID_REQUEST', domain: 'participants.cinode', metadata: {} },
      fieldViolations: [
        { field: 'node.code', description: 'must be 6 characters' },
        { field: 'name', description: 'is required' },
      ],
    });
  });

  it('carries ErrorInfo metadata and RetryInfo, rounded up to whole seconds', () => {
    const payload = domainErrorToGrpc(
      new ResourceExhaustedError('QUOTA_EXCEEDED', 'slow down', {
        retryAfterSeconds: 1.2,
        metadata: { quota: 'calls' },
      }),
      'd.cinode',
    );
    const decoded = decodeRichStatus(payload);
    expect(decoded?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(decoded?.retryDelaySeconds).toBe(2);
    expect(decoded?.errorInfo).toEqual({
      reason: 'QUOTA_EXCEEDED',
      domain: 'd.cinode',
      metadata: { quota: 'calls' },
    });
    expect(decoded?.fieldViolations).toEqual([]);
  });
});

describe(internalErrorToGrpc.name, () => {
  it('says nothing but the correlation id, also as RequestInfo', () => {
    const payload = internalErrorToGrpc('corr-1', 'd.cinode');
    expect(payload).toMatchObject({
      code: GrpcStatus.INTERNAL,
      details: 'internal error (correlation id corr-1)',
    });
    expect(decodeRichStatus(payload)).toMatchObject({
      code: GrpcStatus.INTERNAL,
      requestId: 'corr-1',
      errorInfo: { reason: 'INTERNAL', domain: 'd.cinode' },
    });
  });
});

describe(decodeRichStatus.name, () => {
  it('returns undefined when the trailers carry no status details', () => {
    expect(decodeRichStatus({ metadata: new Metadata() })).toBeUndefined();
  });

  it('ignores detail types it does not know and keeps the ones it does', () => {
    const info = ErrorInfo.encode({
      reason: 'CONFLICT',
      domain: 'd.cinode',
      metadata: {},
    }).finish();
    const status = Status.encode({
      code: GrpcStatus.ABORTED,
      message: 'try again',
      details: [
        { typeUrl: 'type.googleapis.com/google.rpc.Help', value: new Uint8Array([10, 0]) },
        { typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value: info },
      ],
    }).finish();
    const metadata = new Metadata();
    metadata.set(STATUS_DETAILS_KEY, Buffer.from(status));
    expect(decodeRichStatus({ metadata })).toEqual({
      code: GrpcStatus.ABORTED,
      message: 'try again',
      errorInfo: { reason: 'CONFLICT', domain: 'd.cinode', metadata: {} },
      fieldViolations: [],
    });
  });
});

describe(statusCodeOfError.name, () => {
  it('maps domain errors by kind, passes gRPC payloads through and calls anything else INTERNAL', () => {
    expect(statusCodeOfError(new NotFoundError('X', 'x'))).toBe(GrpcStatus.NOT_FOUND);
    expect(statusCodeOfError(new PermissionDeniedError('X', 'x'))).toBe(
      GrpcStatus.PERMISSION_DENIED,
    );
    expect(statusCodeOfError(new DomainError('ABORTED', 'X', 'x'))).toBe(GrpcStatus.ABORTED);
    expect(statusCodeOfError(statusToGrpc(GrpcStatus.UNAVAILABLE, 'm', 'R', 'd'))).toBe(
      GrpcStatus.UNAVAILABLE,
    );
    expect(statusCodeOfError(new Error('boom'))).toBe(GrpcStatus.INTERNAL);
    expect(statusCodeOfError({ code: 99, details: 'not a status' })).toBe(GrpcStatus.INTERNAL);
  });
});
