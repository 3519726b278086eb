import { randomFillSync } from 'node:crypto';
import type { tracing } from '@opentelemetry/sdk-node';

const POOL_BYTES = 8192;
const ZERO_ID = /^0+$/;

/**
 * Trace and span ids cut from a pool of random bytes that is hex-encoded once per 8 KiB, instead
 * of encoding a few bytes for each id (OpenTelemetry's RandomIdGenerator): every call opens a span
 * and, without an incoming trace, a trace, so ids are minted on every call. The bytes come from
 * the operating system's generator rather than Math.random.
 */
export class PooledIdGenerator implements tracing.IdGenerator {
  private hex = '';
  private offset = 0;

  generateTraceId(): string {
    return this.next(32);
  }

  generateSpanId(): string {
    return this.next(16);
  }

  private next(length: number): string {
    for (;;) {
      if (this.offset + length > this.hex.length) {
        this.hex = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString('hex');
        this.offset = 0;
      }
      const id = this.hex.slice(this.offset, this.offset + length);
      this.offset += length;
      // An all-zero id is invalid in W3C trace context; draw another.
      if (!ZERO_ID.test(id)) return id;
    }
  }
}
