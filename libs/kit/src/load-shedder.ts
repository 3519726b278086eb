import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DomainError, ResourceExhaustedError } from '@cinode/common';
import { callsShed, eventLoopLag } from '@cinode/telemetry';

export interface LoadShedderOptions {
  /**
   * Event-loop lag above which new calls are shed (GRPC_SHED_LAG_MS); 0 never sheds for lag.
   * Calls that arrive after their deadline are dropped whatever this is.
   */
  lagThresholdMs: number;
  /** How often the lag is sampled (default 10 ms). */
  sampleIntervalMs?: number;
}

export const LOAD_SHEDDER_OPTIONS = Symbol('LOAD_SHEDDER_OPTIONS');

/** What a call offers to tell when it must be answered by, and what it calls. */
interface DeadlineCarrier {
  getDeadline?(): Date | number;
  getPath?(): string;
}

/** "ShortService/Method" of a call's path, as cinode_rpc_declared names RPCs. */
export function rpcLabelOf(call: { getPath?(): string }): string {
  const [, qualified = '', method = ''] = (call.getPath?.() ?? '').split('/');
  return `${qualified.slice(qualified.lastIndexOf('.') + 1)}/${method}`;
}

/**
 * Sheds load before latency grows without bound, in the shared call pipeline of every service.
 *
 * A Node service falls behind by its event loop falling behind: requests wait in socket and
 * HTTP/2 buffers while the loop works through the ones before them, and every one of them waits
 * longer the more arrive. The lag of a timer that should fire every `sampleIntervalMs` measures
 * that wait, smoothed (half the last sample, half the ones before), so a single pause weighs little
 * and is forgotten within a few samples. Above the threshold a share of new calls is refused at once with RESOURCE_EXHAUSTED
 * (reason OVERLOADED, retry after a second): `(lag - threshold) / threshold`, all of them at twice
 * the threshold. Refusing costs a small fraction of serving, so the loop catches up and the calls
 * admitted are answered in time, instead of every call being answered late.
 *
 * A call whose deadline passed before it reached its handler is not run at all (DEADLINE_EXCEEDED):
 * its caller has given up, and work for it would only delay the calls that still wait.
 * Neither kind of refusal writes an audit record: they change nothing, and writing one under
 * overload would add the very load being shed. Both are counted (cinode_calls_shed_total).
 */
@Injectable()
export class LoadShedder implements OnModuleInit, OnApplicationShutdown {
  private lagMs = 0;
  /** Whether the server asks wireRefusal for every call first (WireGate). */
  private atTheWire = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly threshold: number;
  private readonly interval: number;

  constructor(@Inject(LOAD_SHEDDER_OPTIONS) options: LoadShedderOptions) {
    this.threshold = options.lagThresholdMs;
    this.interval = options.sampleIntervalMs ?? 10;
  }

  onModuleInit(): void {
    if (this.threshold <= 0) return;
    let expected = performance.now() + this.interval;
    this.timer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - expected);
      expected = now + this.interval;
      eventLoopLag.set(lag / 1000);
      // Half the last sample, half the ones before: a service falling behind is behind at sample
      // after sample (every other one, as long and short loop turns alternate), while one pause
      // (a full GC, a big synchronous job) counts half and is forgotten in a few samples.
      this.lagMs = (this.lagMs + lag) / 2;
    }, this.interval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The event loop's lag, smoothed: half the last sample, half the smoothed lag before it. */
  get lag(): number {
    return this.lagMs;
  }

  /** The share of new calls refused now, 0 to 1. */
  get sheddingShare(): number {
    if (this.threshold <= 0 || this.lagMs <= this.threshold) return 0;
    return Math.min(1, (this.lagMs - this.threshold) / this.threshold);
  }

  attachToWire(): void {
    this.atTheWire = true;
  }

  /**
   * For the server, as a call's headers arrive (WireGate): the overload refusal, before the
   * request is read. The same error object every time, so its status is encoded once.
   */
  wireRefusal(path: string): DomainError | undefined {
    return this.overloaded(path) ? WIRE_OVERLOADED : undefined;
  }

  /**
   * Why a call arriving now must not run, or undefined when it may: its deadline passed, or (when
   * the server does not already ask wireRefusal) the service is overloaded.
   */
  refusal(call: DeadlineCarrier, now = Date.now()): DomainError | undefined {
    const deadline = call.getDeadline?.();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    if (at !== undefined && Number.isFinite(at) && at <= now) {
      callsShed.inc({ reason: 'deadline_passed', rpc: rpcLabelOf(call) });
      return new DomainError(
        'DEADLINE_EXCEEDED',
        'DEADLINE_PASSED_BEFORE_START',
        'the deadline passed before the call could start',
      );
    }
    if (!this.atTheWire && this.overloaded(call.getPath?.() ?? '')) return overloadedError();
    return undefined;
  }

  /** Whether a call to `path` arriving now is one of the share shed; counted when it is. */
  private overloaded(path: string): boolean {
    const share = this.sheddingShare;
    if (share <= 0 || (share < 1 && Math.random() >= share)) return false;
    callsShed.inc({ reason: 'overloaded', rpc: rpcLabelOf({ getPath: () => path }) });
    return true;
  }
}

function overloadedError(): ResourceExhaustedError {
  return new ResourceExhaustedError('OVERLOADED', 'the service is overloaded; retry shortly', {
    retryAfterSeconds: 1,
  });
}

/** Only ever encoded into a status (WireAdmission keeps it), never handed on: one is enough. */
const WIRE_OVERLOADED = overloadedError();
