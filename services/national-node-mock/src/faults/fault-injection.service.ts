import { Injectable, Logger } from '@nestjs/common';
import { FieldChecks, UnavailableError } from '@cinode/common';
import { InjectConfig } from '@cinode/kit';
import type { MockConfig } from '../config';
import { ErrorReason } from '../errors';

export interface Faults {
  unavailableRatio: number;
  addedLatencyMs: number;
  outage: boolean;
}

export const MAX_ADDED_LATENCY_MS = 60_000;

/**
 * The faults the mock injects into NationalNodeService calls, so the node's retry, backoff and
 * outbox paths are exercised against an upstream that is slow, flaky or down. The settings are
 * operational state of this one process (set from config at start, changed by the admin RPC), not
 * data, so they live in memory.
 */
@Injectable()
export class FaultInjectionService {
  private readonly logger = new Logger(FaultInjectionService.name);
  private faults: Faults;
  /** Source of randomness for the UNAVAILABLE ratio; unit tests replace it. */
  random: () => number = Math.random;

  constructor(@InjectConfig() config: MockConfig) {
    this.faults = {
      unavailableRatio: config.FAULT_UNAVAILABLE_RATIO,
      addedLatencyMs: config.FAULT_LATENCY_MS,
      outage: config.FAULT_OUTAGE,
    };
  }

  current(): Faults {
    return { ...this.faults };
  }

  set(faults: Faults): Faults {
    new FieldChecks()
      .range('faults.unavailable_ratio', faults.unavailableRatio, 0, 1)
      .range('faults.added_latency', faults.addedLatencyMs, 0, MAX_ADDED_LATENCY_MS)
      .throwIfAny();
    this.faults = { ...faults };
    this.logger.warn({ faults: this.faults }, 'fault injection changed');
    return this.current();
  }

  /** Applies the faults before a call: waits the added latency, then maybe fails it. */
  async beforeCall(): Promise<void> {
    const { addedLatencyMs, outage, unavailableRatio } = this.faults;
    if (addedLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, addedLatencyMs));
    if (outage) {
      throw new UnavailableError(
        ErrorReason.INJECTED_OUTAGE,
        'national node is unavailable (injected outage)',
        {
          retryAfterSeconds: 1,
        },
      );
    }
    if (unavailableRatio > 0 && this.random() < unavailableRatio) {
      throw new UnavailableError(
        ErrorReason.INJECTED_UNAVAILABLE,
        'national node is unavailable (injected fault)',
        {
          retryAfterSeconds: 1,
        },
      );
    }
  }
}
