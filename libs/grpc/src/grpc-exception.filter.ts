import { randomUUID } from 'node:crypto';
import { ArgumentsHost, Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError } from '@cinode/common';
import { Observable, throwError } from 'rxjs';
import {
  decodeRichStatus,
  domainErrorToGrpc,
  internalErrorToGrpc,
  type GrpcErrorPayload,
} from './rich-status';

/** Already a gRPC status (e.g. raised by the auth guard or the deadline cap): passed through. */
export function isGrpcErrorPayload(value: unknown): value is GrpcErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'number' && v.code >= 0 && v.code <= 16 && typeof v.details === 'string';
}

/** The status code and ErrorInfo reason an error reaches the caller with (audit records keep both). */
export function describeError(error: unknown): { code: GrpcStatus; reason: string } {
  if (error instanceof DomainError)
    return { code: domainErrorToGrpc(error, '').code, reason: error.reason };
  if (isGrpcErrorPayload(error)) {
    const status = decodeRichStatus(error);
    return { code: error.code, reason: status?.errorInfo?.reason ?? '' };
  }
  return { code: GrpcStatus.INTERNAL, reason: 'INTERNAL' };
}

/** Maps any error to the gRPC status it will reach the caller as; used by metrics too. */
export function statusCodeOfError(error: unknown): GrpcStatus {
  if (error instanceof DomainError) return domainErrorToGrpc(error, '').code;
  if (isGrpcErrorPayload(error)) return error.code;
  return GrpcStatus.INTERNAL;
}

/**
 * The one exception filter of every gRPC service: domain errors become canonical status codes with
 * google.rpc.Status details; anything unexpected becomes INTERNAL with a correlation id, and its
 * stack goes to the log only.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcExceptionFilter');

  constructor(private readonly domain: string) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const payload = this.toPayload(exception, host);
    return throwError(() => payload);
  }

  toPayload(exception: unknown, host?: ArgumentsHost, path?: string): GrpcErrorPayload {
    if (exception instanceof DomainError) return domainErrorToGrpc(exception, this.domain);
    if (isGrpcErrorPayload(exception)) return exception;
    const correlationId = randomUUID();
    const method = path ?? (host ? describeHandler(host) : undefined);
    this.logger.error(
      { err: exception, correlationId, method },
      `unexpected error in ${method ?? 'handler'} (correlation id ${correlationId})`,
    );
    return internalErrorToGrpc(correlationId, this.domain);
  }
}

function describeHandler(host: ArgumentsHost): string | undefined {
  const call: unknown = host.getArgByIndex(2);
  if (typeof call === 'object' && call !== null && 'getPath' in call) {
    const getPath = (call as { getPath: unknown }).getPath;
    if (typeof getPath === 'function') return String((getPath as () => string).call(call));
  }
  return undefined;
}
