import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { NotFoundError } from '@cinode/common';
import { NEVER, firstValueFrom, of, throwError } from 'rxjs';
import { decodeRichStatus, type GrpcErrorPayload } from './rich-status';
import { RpcInterceptor, effectiveBudgetMs, type DeadlinePolicy } from './rpc.interceptor';

const policy: DeadlinePolicy = { defaultMs: 300, maxMs: 5_000 };
const NOW = 1_700_000_000_000;

describe(effectiveBudgetMs.name, () => {
  it('gives a call without a deadline the default budget', () => {
    expect(effectiveBudgetMs(undefined, policy, NOW)).toBe(300);
    // grpc-js reports "no deadline" as Infinity.
    expect(effectiveBudgetMs(Infinity, policy, NOW)).toBe(300);
    expect(effectiveBudgetMs(new Date(Number.NaN), policy, NOW)).toBe(300);
  });

  it('honours a deadline within the maximum, as a Date or as epoch milliseconds', () => {
    expect(effectiveBudgetMs(new Date(NOW + 1_234), policy, NOW)).toBe(1_234);
    expect(effectiveBudgetMs(NOW + 4_999, policy, NOW)).toBe(4_999);
  });

  it('honours a deadline shorter than the default budget', () => {
    expect(effectiveBudgetMs(NOW + 50, policy, NOW)).toBe(50);
  });

  it('cuts a deadline beyond the maximum to the maximum', () => {
    expect(effectiveBudgetMs(new Date(NOW + 60_000), policy, NOW)).toBe(5_000);
  });

  it('leaves nothing for a deadline already passed', () => {
    expect(effectiveBudgetMs(NOW - 10, policy, NOW)).toBe(0);
  });
});

function contextFor(path: string, deadline: Date | number): ExecutionContext {
  const call = { getPath: () => path, getDeadline: () => deadline };
  const context: Partial<ExecutionContext> = {
    getArgByIndex: <T>(index: number) => (index === 2 ? call : undefined) as T,
  };
  return context as ExecutionContext;
}

describe(RpcInterceptor.name, () => {
  const interceptor = new RpcInterceptor({ defaultMs: 30, maxMs: 5_000 }, 'unit.cinode');
  const handler = (observable: CallHandler['handle']): CallHandler => ({ handle: observable });

  it('stops a handler that outlives its budget with DEADLINE_EXCEEDED', async () => {
    const outcome = firstValueFrom(
      interceptor.intercept(
        contextFor('/unit.v1.UnitService/Hang', Infinity),
        handler(() => NEVER),
      ),
    );
    const error = (await outcome.then(
      () => undefined,
      (e: unknown) => e,
    )) as GrpcErrorPayload;
    expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(error.details).toBe('deadline of 30 ms exceeded');
    expect(decodeRichStatus(error)?.errorInfo).toMatchObject({
      reason: 'DEADLINE_EXCEEDED',
      domain: 'unit.cinode',
    });
  });

  it('passes responses through', async () => {
    await expect(
      firstValueFrom(
        interceptor.intercept(
          contextFor('/unit.v1.UnitService/Echo', Infinity),
          handler(() => of('pong')),
        ),
      ),
    ).resolves.toBe('pong');
  });

  it('passes domain errors through unchanged for the filter', async () => {
    const thrown = new NotFoundError('THING_NOT_FOUND', 'no such thing');
    const observable = interceptor.intercept(
      contextFor('/unit.v1.UnitService/Get', Infinity),
      handler(() => throwError(() => thrown)),
    );
    await expect(firstValueFrom(observable)).rejects.toBe(thrown);
  });
});
