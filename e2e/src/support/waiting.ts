import { status as GrpcStatus } from '@grpc/grpc-js';
import { isGrpcError } from '@cinode/grpc';

const POLL_INTERVAL_MS = 200;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until `done` accepts its result, pausing briefly between attempts; fails after
 * `timeoutMs` with `what` and the last result seen. Every wait in these tests is bounded this way.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  let last: T | undefined;
  for (;;) {
    last = await probe();
    const elapsedMs = Date.now() - started;
    if (done(last)) return { value: last, elapsedMs };
    if (elapsedMs > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${show(last)}`,
      );
    }
    await pause(POLL_INTERVAL_MS);
  }
}

/**
 * Runs `call` again while it fails with one of `transientCodes` (e.g. UNAVAILABLE while a service
 * is still registering, FAILED_PRECONDITION while an event has not arrived yet), for at most
 * `timeoutMs`. Any other failure is thrown at once.
 */
export async function retryWhile<T>(
  what: string,
  transientCodes: GrpcStatus[],
  call: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isGrpcError(error) || !transientCodes.includes(error.code)) throw error;
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; last error: ${error.code} ${error.details}`,
        );
      }
    }
    await pause(POLL_INTERVAL_MS);
  }
}

/** Resolves with the gRPC status code a call fails with, or 0 (OK) when it succeeds. */
export async function statusOf(call: Promise<unknown>): Promise<GrpcStatus> {
  try {
    await call;
    return GrpcStatus.OK;
  } catch (error) {
    if (isGrpcError(error)) return error.code;
    throw error;
  }
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
