import type { Timestamp } from '@cinode/proto/gen/google/protobuf/timestamp';
import type { Duration } from '@cinode/proto/gen/google/protobuf/duration';

export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Millisecond precision, which is what timestamptz keeps through JavaScript Dates. */
export function fromTimestamp(ts: Timestamp): Date {
  return new Date(ts.seconds * 1000 + Math.floor(ts.nanos / 1_000_000));
}

export function durationToMs(d: Duration | undefined): number {
  return d ? d.seconds * 1000 + Math.floor(d.nanos / 1_000_000) : 0;
}

export function msToDuration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}
