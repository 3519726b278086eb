import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  DomainError,
  type ErrorKind,
  type FieldViolation,
  assertUnreachable,
} from '@cinode/common';
import { Any } from '@cinode/proto/gen/google/protobuf/any';
import {
  BadRequest,
  ErrorInfo,
  RequestInfo,
  RetryInfo,
} from '@cinode/proto/gen/google/rpc/error_details';
import { Status } from '@cinode/proto/gen/google/rpc/status';

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const TYPE_PREFIX = 'type.googleapis.com/';

/** The error object grpc-js sends: code, message and trailers carrying google.rpc.Status. */
export interface GrpcErrorPayload {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

export function grpcCodeOf(kind: ErrorKind): GrpcStatus {
  switch (kind) {
    case 'INVALID_ARGUMENT':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'NOT_FOUND':
      return GrpcStatus.NOT_FOUND;
    case 'ALREADY_EXISTS':
      return GrpcStatus.ALREADY_EXISTS;
    case 'FAILED_PRECONDITION':
      return GrpcStatus.FAILED_PRECONDITION;
    case 'PERMISSION_DENIED':
      return GrpcStatus.PERMISSION_DENIED;
    case 'UNAUTHENTICATED':
      return GrpcStatus.UNAUTHENTICATED;
    case 'RESOURCE_EXHAUSTED':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'ABORTED':
      return GrpcStatus.ABORTED;
    case 'UNAVAILABLE':
      return GrpcStatus.UNAVAILABLE;
    case 'CANCELLED':
      return GrpcStatus.CANCELLED;
    case 'DEADLINE_EXCEEDED':
      return GrpcStatus.DEADLINE_EXCEEDED;
    default:
      return assertUnreachable(kind, 'error kind');
  }
}

function pack(typeName: string, value: Uint8Array): Any {
  return { typeUrl: TYPE_PREFIX + typeName, value };
}

/** Builds the gRPC error for a domain error, with ErrorInfo, BadRequest and RetryInfo details. */
export function domainErrorToGrpc(error: DomainError, domain: string): GrpcErrorPayload {
  const code = grpcCodeOf(error.kind);
  const details: Any[] = [
    pack(
      'google.rpc.ErrorInfo',
      ErrorInfo.encode({ reason: error.reason, domain, metadata: error.metadata }).finish(),
    ),
  ];
  if (error.fieldViolations.length > 0) {
    details.push(
      pack(
        'google.rpc.BadRequest',
        BadRequest.encode({ fieldViolations: error.fieldViolations }).finish(),
      ),
    );
  }
  if (error.retryAfterSeconds !== undefined) {
    details.push(
      pack(
        'google.rpc.RetryInfo',
        RetryInfo.encode({
          retryDelay: { seconds: Math.ceil(error.retryAfterSeconds), nanos: 0 },
        }).finish(),
      ),
    );
  }
  return withStatus(code, error.message, details);
}

/** INTERNAL with a correlation id and nothing else: the stack stays in the server log. */
export function internalErrorToGrpc(correlationId: string, domain: string): GrpcErrorPayload {
  return withStatus(GrpcStatus.INTERNAL, `internal error (correlation id ${correlationId})`, [
    pack(
      'google.rpc.ErrorInfo',
      ErrorInfo.encode({ reason: 'INTERNAL', domain, metadata: {} }).finish(),
    ),
    pack(
      'google.rpc.RequestInfo',
      RequestInfo.encode({ requestId: correlationId, servingData: '' }).finish(),
    ),
  ]);
}

/** A plain status with ErrorInfo, for errors raised outside any domain (deadline cap, auth). */
export function statusToGrpc(
  code: GrpcStatus,
  message: string,
  reason: string,
  domain: string,
): GrpcErrorPayload {
  return withStatus(code, message, [
    pack('google.rpc.ErrorInfo', ErrorInfo.encode({ reason, domain, metadata: {} }).finish()),
  ]);
}

function withStatus(code: GrpcStatus, message: string, details: Any[]): GrpcErrorPayload {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode({ code, message, details }).finish()));
  return { code, details: message, metadata };
}

/** What a client can read back from a failed call's trailers. */
export interface DecodedStatus {
  code: number;
  message: string;
  errorInfo?: ErrorInfo;
  fieldViolations: FieldViolation[];
  retryDelaySeconds?: number;
  requestId?: string;
}

/** Decodes `grpc-status-details-bin` of a failed call; undefined when the server sent none. */
export function decodeRichStatus(error: Pick<ServiceError, 'metadata'>): DecodedStatus | undefined {
  const raw = error.metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!raw || typeof raw === 'string') return undefined;
  const status = Status.decode(raw);
  const decoded: DecodedStatus = {
    code: status.code,
    message: status.message,
    fieldViolations: [],
  };
  for (const detail of status.details) {
    switch (detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1)) {
      case 'google.rpc.ErrorInfo':
        decoded.errorInfo = ErrorInfo.decode(detail.value);
        break;
      case 'google.rpc.BadRequest':
        decoded.fieldViolations.push(...BadRequest.decode(detail.value).fieldViolations);
        break;
      case 'google.rpc.RetryInfo':
        decoded.retryDelaySeconds = RetryInfo.decode(detail.value).retryDelay?.seconds;
        break;
      case 'google.rpc.RequestInfo':
        decoded.requestId = RequestInfo.decode(detail.value).requestId;
        break;
      default:
        break;
    }
  }
  return decoded;
}
