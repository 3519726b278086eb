import { uuidv7 } from '@cinode/common';

let last = '';

/**
 * A UUIDv7 greater than every one this process made before: a fresh one when it sorts after the
 * last, else the last plus one in its random bits (RFC 9562's monotonic random method). Events a
 * process writes in one millisecond would otherwise sort at random, and the relay publishes in
 * (created_at, id) order: the events of one transaction all share created_at.
 */
export function nextEventId(now: number = Date.now()): string {
  const fresh = uuidv7(now);
  last = fresh > last ? fresh : increment(last);
  return last;
}

/** The next UUIDv7 after `id`: the 62 bits of rand_b, carrying into rand_a, then the time. */
function increment(id: string): string {
  const hex = id.replace(/-/g, '');
  let time = BigInt(`0x${hex.slice(0, 12)}`);
  let randA = BigInt(`0x${hex.slice(13, 16)}`);
  let randB = BigInt(`0x${hex.slice(16)}`) & ((1n << 62n) - 1n);
  randB += 1n;
  if (randB >> 62n) {
    randB = 0n;
    randA += 1n;
    if (randA >> 12n) {
      randA = 0n;
      time += 1n;
    }
  }
  const out =
    time.toString(16).padStart(12, '0') +
    '7' +
    randA.toString(16).padStart(3, '0') +
    ((2n << 62n) | randB).toString(16).padStart(16, '0');
  return `${out.slice(0, 8)}-${out.slice(8, 12)}-${out.slice(12, 16)}-${out.slice(16, 20)}-${out.slice(20)}`;
}
