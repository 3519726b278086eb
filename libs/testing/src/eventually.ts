import { setTimeout as pause } from 'node:timers/promises';

/**
 * Calls `probe` until it returns a value other than `undefined`, for conditions with no event to
 * await. A probe that throws counts as "not yet" (a service still starting, a row not there); the
 * last error is named when the bound runs out. Every wait in the tests is bounded this way.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (error: unknown) {
      last = error;
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? `; last error: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await pause(intervalMs);
  }
}
