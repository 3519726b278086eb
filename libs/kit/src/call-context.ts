import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ROOT_CONTEXT,
  context as otelContext,
  createContextKey,
  type Context,
} from '@opentelemetry/api';
import type { AuditedCall } from '@cinode/audit';
import { DomainError } from '@cinode/common';

/** Why a call was cut short: its deadline, its caller, or the caller's quarantine (a stream). */
export type AbortReason = 'deadline' | 'cancelled' | 'quarantined';

/**
 * One gRPC call as the platform follows it from arrival to its audit record. Units of work started
 * while handling the call see it (through AsyncLocalStorage): they stop when it is aborted and
 * write its audit record in their transaction.
 */
export class CallContext {
  // Made on first use: most calls end without anyone asking for a signal or waiting for an abort.
  private controller: AbortController | undefined;
  private abortedPromise: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private listeners: (() => void)[] | undefined;
  private why: AbortReason | undefined;
  audit: AuditedCall | undefined;
  /** A client-streaming call (open until its caller ends it). */
  clientStream = false;

  /** When the capped deadline passes (ms since the epoch). */
  readonly deadlineAt: number;

  constructor(
    readonly method: string,
    /** The capped deadline budget of the call. */
    readonly budgetMs: number,
    startedAt: number = Date.now(),
  ) {
    this.deadlineAt = startedAt + budgetMs;
  }

  /** Milliseconds until the deadline (0 or less once it passed). */
  remainingMs(now: number = Date.now()): number {
    return this.deadlineAt - now;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.why) this.controller.abort();
    }
    return this.controller.signal;
  }

  get abortReason(): AbortReason | undefined {
    return this.why;
  }

  abort(reason: AbortReason): void {
    if (this.why) return;
    this.why = reason;
    this.controller?.abort();
    this.wake?.();
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }

  /** Calls `listener` once when the call is aborted (at once if it was already). */
  onAbort(listener: () => void): void {
    if (this.why) listener();
    else (this.listeners ??= []).push(listener);
  }

  /** Resolves when the call is aborted (deadline or caller gone). */
  aborted(): Promise<void> {
    if (this.why) return Promise.resolve();
    this.abortedPromise ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.abortedPromise;
  }

  /** What the caller gets, and what stops this call's units of work, once it is aborted. */
  abortError(): DomainError {
    if (this.why === 'cancelled')
      return new DomainError('CANCELLED', 'CANCELLED', 'the caller cancelled the call');
    if (this.why === 'quarantined')
      return new DomainError(
        'PERMISSION_DENIED',
        'PARTICIPANT_QUARANTINED',
        'this participant was quarantined by the node after a critical security risk: its open stream is ended; contact the node operator',
      );
    return new DomainError(
      'DEADLINE_EXCEEDED',
      'DEADLINE_EXCEEDED',
      `deadline of ${this.budgetMs} ms exceeded`,
    );
  }
}

const storage = new AsyncLocalStorage<CallContext>();
const CALL = createContextKey('cinode.call');
let otelCarriesContext: boolean | undefined;

/**
 * Whether OpenTelemetry's context manager is running (in a service: the SDK is always started).
 * Then the call rides in the OpenTelemetry context with the call's span: one AsyncLocalStorage run
 * per call instead of two. Without it (tests that start no SDK) a store of its own carries it.
 */
function carriedByOtel(): boolean {
  otelCarriesContext ??= otelContext.with(ROOT_CONTEXT.setValue(CALL, true), () =>
    Boolean(otelContext.active().getValue(CALL)),
  );
  return otelCarriesContext;
}

/** The call being handled, when there is one (undefined in consumers and start-up work). */
export function currentCall(): CallContext | undefined {
  const carried = otelContext.active().getValue(CALL);
  return carried instanceof CallContext ? carried : storage.getStore();
}

/** Runs `work` as part of `call`, in `traceContext` (the call's span) when given. */
export function runInCall<T>(context: CallContext, work: () => T, traceContext?: Context): T {
  if (carriedByOtel())
    return otelContext.with((traceContext ?? otelContext.active()).setValue(CALL, context), work);
  return traceContext
    ? otelContext.with(traceContext, () => storage.run(context, work))
    : storage.run(context, work);
}
