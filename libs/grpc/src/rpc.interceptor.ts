import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { rpcServerDuration, rpcServerHandled } from '@cinode/telemetry';
import { Observable, TimeoutError, catchError, tap, throwError, timeout } from 'rxjs';
import { statusCodeOfError } from './grpc-exception.filter';
import { statusToGrpc } from './rich-status';

export interface DeadlinePolicy {
  /** Budget for calls that arrive without a deadline. */
  defaultMs: number;
  /** Longest budget honoured; longer deadlines are cut to it. */
  maxMs: number;
}

interface CallLike {
  getDeadline?: () => Date | number;
  getPath?: () => string;
}

/** Milliseconds a call may run: the caller's deadline, capped, or the default when it set none. */
export function effectiveBudgetMs(deadline: Date | number | undefined, policy: DeadlinePolicy, now: number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (at === undefined || !Number.isFinite(at)) return policy.defaultMs;
  return Math.max(0, Math.min(at - now, policy.maxMs));
}

/**
 * Wraps every RPC handler: counts it and times it by method and final status code, and stops a
 * handler that outlives its (capped) deadline with DEADLINE_EXCEEDED so no call runs unbounded.
 */
@Injectable()
export class RpcInterceptor implements NestInterceptor {
  constructor(
    private readonly policy: DeadlinePolicy,
    private readonly domain: string,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call = context.getArgByIndex<CallLike | undefined>(2);
    const path = call?.getPath?.() ?? `/${context.getClass().name}/${context.getHandler().name}`;
    const [, service = 'unknown', method = 'unknown'] = path.split('/');
    const started = process.hrtime.bigint();
    const budget = effectiveBudgetMs(call?.getDeadline?.(), this.policy, Date.now());
    const record = (code: GrpcStatus) => {
      const labels = { grpc_service: service, grpc_method: method, grpc_code: GrpcStatus[code] };
      rpcServerHandled.inc(labels);
      rpcServerDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    };
    return next.handle().pipe(
      timeout({ first: budget }),
      tap({ next: () => record(GrpcStatus.OK) }),
      catchError((error: unknown) => {
        const mapped =
          error instanceof TimeoutError
            ? statusToGrpc(
                GrpcStatus.DEADLINE_EXCEEDED,
                `deadline of ${budget} ms exceeded`,
                'DEADLINE_EXCEEDED',
                this.domain,
              )
            : error;
        record(statusCodeOfError(mapped));
        return throwError(() => mapped);
      }),
    );
  }
}
