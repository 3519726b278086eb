import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Observable, TimeoutError, catchError, throwError, timeout } from 'rxjs';
import { statusToGrpc } from './rich-status';

export interface DeadlinePolicy {
  /** Budget for calls that arrive without a deadline. */
  defaultMs: number;
  /** Longest budget honoured; longer deadlines are cut to it. */
  maxMs: number;
}

interface CallLike {
  getDeadline?: () => Date | number;
}

/** Milliseconds a call may run: the caller's deadline, capped, or the default when it set none. */
export function effectiveBudgetMs(
  deadline: Date | number | undefined,
  policy: DeadlinePolicy,
  now: number,
): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (at === undefined || !Number.isFinite(at)) return policy.defaultMs;
  return Math.max(0, Math.min(at - now, policy.maxMs));
}

/**
 * Stops a handler that outlives its (capped) deadline with DEADLINE_EXCEEDED, so no call holds
 * its caller unbounded. (Counting and timing calls is rpcMetricsInterceptor's job, in grpc-js.)
 */
@Injectable()
export class RpcInterceptor implements NestInterceptor {
  constructor(
    private readonly policy: DeadlinePolicy,
    private readonly domain: string,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call = context.getArgByIndex<CallLike | undefined>(2);
    const budget = effectiveBudgetMs(call?.getDeadline?.(), this.policy, Date.now());
    return next.handle().pipe(
      timeout({ first: budget }),
      catchError((error: unknown) =>
        throwError(() =>
          error instanceof TimeoutError
            ? statusToGrpc(
                GrpcStatus.DEADLINE_EXCEEDED,
                `deadline of ${budget} ms exceeded`,
                'DEADLINE_EXCEEDED',
                this.domain,
              )
            : error,
        ),
      ),
    );
  }
}
