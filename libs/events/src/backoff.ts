export interface BackoffPolicy {
  /** Delay after the first failure. */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /** Growth per further failure (default 2). */
  multiplier?: number;
  /** Fraction of the delay randomised away (0..1, default 0.2), so replicas don't retry in lockstep. */
  jitter?: number;
}

export const DEFAULT_RELAY_BACKOFF: BackoffPolicy = {
  initialMs: 200,
  maxMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
};
export const DEFAULT_CONSUMER_BACKOFF: BackoffPolicy = {
  initialMs: 1_000,
  maxMs: 60_000,
  multiplier: 2,
  jitter: 0.2,
};

/**
 * Delay before retry number `attempt` (1 = first retry): initial * multiplier^(attempt-1), capped at
 * max, then reduced by up to `jitter` of itself. `random` is injectable so tests are deterministic.
 */
export function computeBackoff(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const multiplier = policy.multiplier ?? 2;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.2));
  const raw = policy.initialMs * Math.pow(multiplier, n - 1);
  const capped = Math.min(policy.maxMs, Number.isFinite(raw) ? raw : policy.maxMs);
  return Math.round(capped * (1 - jitter * random()));
}
