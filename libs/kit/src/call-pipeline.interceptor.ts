import { setTimeout as sleep } from 'node:timers/promises';
import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Metadata } from '@grpc/grpc-js';
import {
  AUDIT_METADATA,
  AuditTrail,
  type CallAuditDeclaration,
  type CallResult,
} from '@cinode/audit';
import { Authorizer, accessRuleOf, type Caller } from '@cinode/auth';
import { DomainError, UnauthenticatedError, ValidationError } from '@cinode/common';
import {
  METADATA_GETTER,
  UndecodableRequest,
  addressOfPeer,
  effectiveBudgetMs,
  type DeadlinePolicy,
} from '@cinode/grpc';
import { isStatementCancelled } from '@cinode/database';
import {
  SpanKind,
  context as otelContext,
  propagation,
  trace,
  type Context,
} from '@opentelemetry/api';
import { Observable, isObservable, lastValueFrom } from 'rxjs';
import { CallContext, runInCall } from './call-context';
import { AccessControls } from './access-controls';
import { LoadShedder, rpcLabelOf } from './load-shedder';
import { RefusalAuditBudget, type SuppressedRefusals } from './refusal-audit-budget';
import { auditParticipantRefusalsSuppressed, auditSuppressed } from '@cinode/telemetry';
import { controlCharacterViolations } from './request-text';

const tracer = trace.getTracer('@cinode/kit');

/** How long an aborted call's handler may take to let go before the caller is answered anyway. */
export const ABORT_GRACE_MS = 1_000;

/** The longest delay a Node timer takes (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A cancellation this close to the deadline is the deadline (timers fire a little late or early). */
const CLOCK_SLACK_MS = 50;

export interface CallPipelineOptions {
  deadlines: DeadlinePolicy;
  /**
   * Refusals of unauthenticated calls to audited RPCs recorded one by one per address and minute
   * (AUDIT_UNAUTHENTICATED_PER_MINUTE; see RefusalAuditBudget); 0 or unset records all.
   */
  unauthenticatedAuditPerMinute?: number;
  /**
   * Refusals of a known participant by the access controls before its call runs (RATE_LIMITED,
   * PARTICIPANT_QUARANTINED, QUARANTINE_LIST_UNREAD) recorded one by one per participant, reason
   * and minute (AUDIT_CALLER_REFUSALS_PER_MINUTE); 0 or unset records all.
   */
  callerRefusalAuditPerMinute?: number;
}

export const CALL_PIPELINE_OPTIONS = Symbol('CALL_PIPELINE_OPTIONS');

/** What a handler's decorators declare, read once. */
export interface HandlerDeclarations {
  /** Controller.method, for calls without a gRPC path. */
  name: string;
  access: ReturnType<typeof accessRuleOf>;
  declaration: CallAuditDeclaration | undefined;
}

/** The parts of a grpc-js server call the pipeline uses. */
export interface CallLike {
  getPath?: () => string;
  getPeer?: () => string;
  getConnectionInfo?: () => { remoteAddress?: string };
  getDeadline?: () => Date | number;
  on?: (event: 'cancelled', listener: () => void) => unknown;
  off?: (event: 'cancelled', listener: () => void) => unknown;
}

/**
 * Every call of every service passes here, in this order:
 * 0. a call from an address the allow/deny lists refuse (AccessControls), past its deadline, or
 *    arriving while the service is overloaded (LoadShedder) is refused at once: nothing runs,
 *    nothing is audited. A quarantined participant, or one over its rate, is refused after
 *    authorization (audited, up to AUDIT_CALLER_REFUSALS_PER_MINUTE per participant and reason,
 *    then counted);
 * 1. its context is set up: method, capped deadline, and — for an `@Audited` RPC — its audit record;
 * 2. the caller is authenticated and authorized (a refusal is an outcome like any other, so it is
 *    audited too);
 * 3. the handler runs. At the deadline, or when the caller cancels, the call is aborted: the
 *    statement its unit of work is running is cancelled and the transaction rolls back rather than
 *    commits. The caller is answered DEADLINE_EXCEEDED once the handler has let go (at most
 *    ABORT_GRACE_MS later); if its change committed before the abort took hold, the call succeeded
 *    and is answered so;
 * 4. the audit record is settled with the outcome the caller got (for a handler that outlives the
 *    grace period, when it finally settles, so the record tells what really happened).
 */
@Injectable()
export class CallPipeline implements NestInterceptor, OnApplicationShutdown {
  /** Each handler's declarations (by controller), read from its decorators once. */
  private readonly declarations = new WeakMap<object, WeakMap<object, HandlerDeclarations>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly authorizer: Authorizer,
    @Inject(CALL_PIPELINE_OPTIONS) private readonly options: CallPipelineOptions,
    @Optional() private readonly trail?: AuditTrail,
    @Optional() private readonly shedder?: LoadShedder,
    @Optional() private readonly controls?: AccessControls,
  ) {
    this.unauthenticatedAudit = new RefusalAuditBudget(options.unauthenticatedAuditPerMinute ?? 0);
    this.callerRefusalAudit = new RefusalAuditBudget(options.callerRefusalAuditPerMinute ?? 0);
  }

  private readonly logger = new Logger('CallPipeline');
  private readonly unauthenticatedAudit: RefusalAuditBudget;
  private readonly callerRefusalAudit: RefusalAuditBudget;

  /** The server has drained (startGrpcService closes the app after it): the minute's summaries. */
  onApplicationShutdown(): void {
    this.unauthenticatedAudit.close();
    this.callerRefusalAudit.close();
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const rpc = context.switchToRpc();
    const grpcCall = context.getArgByIndex<CallLike | undefined>(2) ?? {};
    const handling = this.handle(
      this.declarationsOf(context.getClass(), context.getHandler()),
      rpc.getContext<Metadata | undefined>(),
      rpc.getData<unknown>(),
      grpcCall,
      () => next.handle(),
    );
    return new Observable((subscriber) => {
      const answer = (result: CallResult): void => {
        if (result.ok) {
          subscriber.next(result.response);
          subscriber.complete();
        } else subscriber.error(result.error);
      };
      if (handling instanceof Promise)
        handling.then(answer, (error: unknown) => subscriber.error(error));
      else answer(handling);
    });
  }

  /** A handler's access rule and audit declaration, read from its decorators once. */
  declarationsOf(controller: object, handler: object): HandlerDeclarations {
    let ofController = this.declarations.get(controller);
    if (!ofController) this.declarations.set(controller, (ofController = new WeakMap()));
    let declared = ofController.get(handler);
    if (!declared) {
      declared = {
        name: `${(controller as { name?: string }).name ?? 'controller'}.${(handler as { name?: string }).name ?? 'handler'}`,
        access: accessRuleOf(
          this.reflector,
          handler as (...args: never[]) => unknown,
          controller as new (...args: never[]) => unknown,
        ),
        declaration: this.reflector.get<CallAuditDeclaration | undefined>(
          AUDIT_METADATA,
          handler as (...args: never[]) => unknown,
        ),
      };
      ofController.set(handler, declared);
    }
    return declared;
  }

  /**
   * One call, from arrival to its audit record: the same steps whether Nest runs the handler (as
   * an interceptor) or the grpc-js server does (DirectCallDispatcher). `invoke` starts the handler
   * and returns what it returns (a value, a promise or an observable); the result is what the
   * caller is answered. A call that needs nothing asynchronous — a caller whose token was verified
   * before, no audit record, a handler answering at once — is answered synchronously: no promise,
   * no timer (no deadline can pass, nor the caller cancel, while it runs).
   */
  handle(
    declared: HandlerDeclarations,
    metadata: Metadata | undefined,
    request: unknown,
    grpcCall: CallLike,
    invoke: () => unknown,
    /** A client-streaming call: open until the caller ends it, so a quarantine cuts it. */
    clientStream = false,
  ): CallResult | Promise<CallResult> {
    // Refused before anything is spent on it: an address the lists refuse, the service
    // overloaded, or its caller already gone.
    const shed = this.controls?.addressRefusal(grpcCall) ?? this.shedder?.refusal(grpcCall);
    if (shed) return { ok: false, error: shed };
    const method = grpcCall.getPath?.() ?? declared.name;
    const active = otelContext.active();
    // The gRPC instrumentation (on while spans are exported) opened the call's span already;
    // without it the call's span is opened here, continuing the caller's trace, so logs and audit
    // records inside the call carry its ids either way.
    if (trace.getSpan(active))
      return this.handleInSpan(
        method,
        declared,
        metadata,
        request,
        grpcCall,
        invoke,
        active,
        clientStream,
      );
    const parent = propagation.extract(active, metadata, METADATA_GETTER);
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
    let outcome: CallResult | Promise<CallResult>;
    try {
      outcome = this.handleInSpan(
        method,
        declared,
        metadata,
        request,
        grpcCall,
        invoke,
        trace.setSpan(parent, span),
        clientStream,
      );
    } catch (error) {
      span.end();
      throw error;
    }
    if (!(outcome instanceof Promise)) {
      span.end();
      return outcome;
    }
    return outcome.finally(() => span.end());
  }

  private handleInSpan(
    method: string,
    declared: HandlerDeclarations,
    metadata: Metadata | undefined,
    request: unknown,
    grpcCall: CallLike,
    invoke: () => unknown,
    traceContext: Context,
    clientStream: boolean,
  ): CallResult | Promise<CallResult> {
    const { access, declaration } = declared;
    const startedAt = Date.now();
    const budget = effectiveBudgetMs(grpcCall.getDeadline?.(), this.options.deadlines, startedAt);
    const call = new CallContext(method, budget, startedAt);
    call.clientStream = clientStream;
    if (declaration?.kind === 'audited' && this.trail) {
      call.audit = this.trail.begin({
        method,
        rule: declaration,
        request,
        peer: grpcCall.getPeer?.() ?? '',
        traceId: trace.getSpanContext(traceContext)?.traceId ?? '',
        startedAt: new Date(startedAt),
      });
    }
    return runInCall(
      call,
      () => this.run(call, access, metadata, request, grpcCall, invoke),
      traceContext,
    );
  }

  /** The synchronous start of a call; continues in `runAsync` at the first thing to wait for. */
  private run(
    call: CallContext,
    access: ReturnType<typeof accessRuleOf>,
    metadata: Metadata | undefined,
    request: unknown,
    grpcCall: CallLike,
    invoke: () => unknown,
  ): CallResult | Promise<CallResult> {
    let returned: unknown;
    try {
      const caller = this.authorizer.rememberedCaller(access, metadata);
      // An audited call writes its record asynchronously, whoever calls.
      if (!caller || call.audit)
        return this.watched(call, grpcCall, () =>
          this.runAsync(call, access, metadata, request, invoke, caller),
        );
      this.authorizer.permit(access, caller, metadata, call.method);
      const refused = this.controls?.callerRefusal(caller);
      if (refused) throw refused;
      checkRequestShape(request);
      returned = invoke();
      if (!isThenable(returned) && !isObservable(returned)) return { ok: true, response: returned };
    } catch (error) {
      return { ok: false, error };
    }
    const started = returned;
    return this.watched(
      call,
      grpcCall,
      async () => (await this.invoke(call, () => started)).result,
    );
  }

  /**
   * One server-streaming call: gated (addresses, load), authenticated, authorized, rate-limited and
   * checked like any other, then `write`
   * runs until it has written every response or the call is aborted (the caller cancels, or its own
   * deadline passes: a stream is not cut at GRPC_MAX_DEADLINE_MS, which bounds single answers). The
   * signal it gets is the call's. Streams change nothing, so there is no audit record.
   */
  stream(
    declared: HandlerDeclarations,
    metadata: Metadata | undefined,
    request: unknown,
    grpcCall: CallLike,
    write: (signal: AbortSignal) => Promise<void>,
  ): Promise<CallResult> {
    // The same gates as any call: refused addresses, overload and a deadline already passed.
    const shed = this.controls?.addressRefusal(grpcCall) ?? this.shedder?.refusal(grpcCall);
    if (shed) return Promise.resolve({ ok: false, error: shed });
    const method = grpcCall.getPath?.() ?? declared.name;
    const startedAt = Date.now();
    const deadline = grpcCall.getDeadline?.();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    const budget =
      at === undefined || !Number.isFinite(at)
        ? MAX_TIMER_MS
        : Math.min(MAX_TIMER_MS, Math.max(0, at - startedAt));
    const call = new CallContext(method, budget, startedAt);
    const active = otelContext.active();
    const parent = trace.getSpan(active)
      ? active
      : propagation.extract(active, metadata, METADATA_GETTER);
    return runInCall(
      call,
      () =>
        this.watched(call, grpcCall, async (): Promise<CallResult> => {
          try {
            const caller = await this.authorizer.authenticate(declared.access, metadata, method);
            this.authorizer.permit(declared.access, caller, metadata, method);
            const refused = this.controls?.callerRefusal(caller);
            if (refused) throw refused;
            checkRequestShape(request);
            // A participant quarantined while its stream is open loses the stream there and then.
            const unwatch =
              caller && this.controls
                ? this.controls.endOnQuarantine(caller, () => call.abort('quarantined'))
                : undefined;
            try {
              await write(call.signal);
            } finally {
              unwatch?.();
            }
          } catch (error) {
            return { ok: false, error };
          }
          return call.abortReason
            ? { ok: false, error: call.abortError() }
            : { ok: true, response: undefined };
        }),
      parent,
    );
  }

  /**
   * Runs the asynchronous rest of a call with its deadline's timer and the caller's cancellation
   * watched: either aborts the call.
   */
  private watched(
    call: CallContext,
    grpcCall: CallLike,
    rest: () => Promise<CallResult>,
  ): Promise<CallResult> {
    // grpc-js cancels the call at the caller's own deadline too: that is a deadline, not a caller
    // walking away.
    const onCancelled = (): void =>
      call.abort(call.remainingMs() <= CLOCK_SLACK_MS ? 'deadline' : 'cancelled');
    grpcCall.on?.('cancelled', onCancelled);
    const timer = setTimeout(() => call.abort('deadline'), Math.max(0, call.remainingMs()));
    return rest().finally(() => {
      clearTimeout(timer);
      grpcCall.off?.('cancelled', onCancelled);
    });
  }

  private async runAsync(
    call: CallContext,
    access: ReturnType<typeof accessRuleOf>,
    metadata: Metadata | undefined,
    request: unknown,
    invoke: () => unknown,
    /** The caller of a token verified before, when run() found one. */
    remembered: Caller | undefined,
  ): Promise<CallResult> {
    let result: CallResult;
    let lateSettle: Promise<CallResult> | undefined;
    /** The access controls' refusal of this caller (quarantine, rate), when that is the outcome. */
    let volumeRefusal: DomainError | undefined;
    try {
      const caller =
        remembered ?? (await this.authorizer.authenticate(access, metadata, call.method));
      // Known before the role check, so a refused caller is recorded by name.
      if (call.audit) call.audit.caller = caller;
      this.authorizer.permit(access, caller, metadata, call.method);
      volumeRefusal = this.controls?.callerRefusal(caller);
      if (volumeRefusal) throw volumeRefusal;
      checkRequestShape(request);
      // A participant quarantined meanwhile loses a client stream it keeps open (inventory) there
      // and then. A unary call runs to its end: cut mid-way, a change it committed would be
      // answered as refused.
      const unwatch =
        call.clientStream && caller && this.controls
          ? this.controls.endOnQuarantine(caller, () => call.abort('quarantined'))
          : undefined;
      try {
        ({ result, lateSettle } = await this.invoke(call, invoke));
      } finally {
        unwatch?.();
      }
    } catch (error) {
      result = { ok: false, error };
    }
    const audit = call.audit;
    // A handler still running (lateSettle) ran: its record is always settled.
    if (audit && this.trail && !lateSettle && !this.recordsRefusal(audit, result, volumeRefusal)) {
      const counter = audit.caller ? auditParticipantRefusalsSuppressed : auditSuppressed;
      counter.inc({ rpc: rpcLabelOf({ getPath: () => call.method }) });
      return result;
    }
    if (audit && this.trail) {
      const trail = this.trail;
      const settle = (outcome: CallResult) =>
        audit.settle(outcome).catch((error: unknown) => trail.reportLost(error, audit.start));
      // A handler still running after the caller was answered: record the answer it got, once the
      // handler has settled (and its change, if any, is known).
      if (lateSettle) void lateSettle.then(() => settle(result));
      else await settle(result);
    }
    return result;
  }

  /**
   * Whether the outcome of an audited call is recorded: always, except a refusal that comes in
   * volume once its source has spent its minute's budget (RefusalAuditBudget): of a caller no token
   * identified, by address; of a participant the access controls refused before its call ran (over
   * its rate, quarantined, the quarantine list unread), by participant and reason. That refusal is
   * `volumeRefusal` itself: a call that ran and ended with the same reason (a client stream cut by
   * a quarantine) is recorded like any other.
   */
  private recordsRefusal(
    audit: { caller?: Caller; recorded: boolean; start: { peer: string } },
    result: CallResult,
    volumeRefusal: DomainError | undefined,
  ): boolean {
    // A call that committed a change is always settled in the trail, whatever it answered.
    if (result.ok || audit.recorded) return true;
    const caller = audit.caller;
    if (caller === undefined) {
      if (!(result.error instanceof UnauthenticatedError)) return true;
      return this.unauthenticatedAudit.admit(
        addressOfPeer(audit.start.peer),
        (suppressed) =>
          this.summarise('unauthenticated calls', 'audit_unauthenticated_suppressed', suppressed),
        (source) =>
          this.logger.warn(
            `${source} is over AUDIT_UNAUTHENTICATED_PER_MINUTE: further refusals this minute are counted, not recorded one by one`,
          ),
      );
    }
    if (volumeRefusal === undefined || result.error !== volumeRefusal) return true;
    // The participant a rate limit counts against (its tenant, or its subject without one), and
    // why: a flood of rate-limited calls does not spend what a quarantine's refusals are recorded
    // from.
    const source = `${caller.tenant || `subject:${caller.subject}`} ${volumeRefusal.reason}`;
    return this.callerRefusalAudit.admit(
      source,
      (suppressed) =>
        this.summarise(
          "participants' calls (rate limit, quarantine)",
          'audit_participant_refusals_suppressed',
          suppressed,
        ),
      (over) =>
        this.logger.warn(
          `${over} is over AUDIT_CALLER_REFUSALS_PER_MINUTE: further such refusals this minute are counted, not recorded one by one`,
        ),
    );
  }

  /** The warning for a minute's refusals counted instead of recorded. */
  private summarise(what: string, metric: string, suppressed: SuppressedRefusals): void {
    const total = [...suppressed.values()].reduce((a, b) => a + b, 0);
    const top = [...suppressed]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([source, count]) => `${source} ${count}`)
      .join(', ');
    this.logger.warn(
      `${total} refusal(s) of ${what} from ${suppressed.size} source(s) in the last minute were counted (cinode_${metric}_total), not recorded one by one; most: ${top}`,
    );
  }

  private async invoke(
    call: CallContext,
    invoke: () => unknown,
  ): Promise<{ result: CallResult; lateSettle?: Promise<CallResult> }> {
    const settled: Promise<CallResult> = settlementOf(invoke);
    // Whichever comes first: the handler settling, or the call being aborted.
    const first = await new Promise<CallResult | undefined>((resolve) => {
      void settled.then(resolve);
      call.onAbort(() => resolve(undefined));
    });
    if (first) {
      // Postgres' statement_timeout (set from this deadline) can fire before the deadline's timer
      // does when the event loop is busy: still the deadline, not an internal error.
      if (!first.ok && isStatementCancelled(first.error) && call.remainingMs() <= CLOCK_SLACK_MS) {
        call.abort('deadline');
        return { result: { ok: false, error: call.abortError() } };
      }
      return { result: first };
    }
    const late = await Promise.race([settled, sleep(ABORT_GRACE_MS).then(() => undefined)]);
    // Committed before the abort took hold: that is what happened, and what the caller hears.
    if (late?.ok) return { result: late };
    const aborted: CallResult = { ok: false, error: call.abortError() };
    return late ? { result: aborted } : { result: aborted, lateSettle: settled };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** How a handler settles: what it returns (awaited, or its observable's last value) or throws. */
function settlementOf(invoke: () => unknown): Promise<CallResult> {
  let returned: unknown;
  try {
    returned = invoke();
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
  // An async handler may resolve with an observable (e.g. a client call it returns): its last value.
  const settling = Promise.resolve(returned).then((value: unknown) =>
    isObservable(value) ? lastValueFrom(value, { defaultValue: undefined }) : value,
  );
  return settling.then(
    (response: unknown) => ({ ok: true as const, response }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * The platform's checks of any request, after the caller is known to be allowed and before the
 * handler: bytes that are no message of the RPC's type, and strings holding control characters.
 */
export function checkRequestShape(request: unknown): void {
  if (request instanceof UndecodableRequest) {
    throw new DomainError(
      'INVALID_ARGUMENT',
      'UNDECODABLE_REQUEST',
      `the request is not a valid ${request.type} message: ${request.problem}`,
    );
  }
  const violations = controlCharacterViolations(request);
  if (violations.length > 0) throw new ValidationError(violations);
}
