export interface DeadlinePolicy {
  /** Budget for calls that arrive without a deadline. */
  defaultMs: number;
  /** Longest budget honoured; longer deadlines are cut to it. */
  maxMs: number;
}

/** Milliseconds a call may run: the caller's deadline, capped, or the default when it set none. */
export function effectiveBudgetMs(
  deadline: Date | number | undefined,
  policy: DeadlinePolicy,
  now: number,
): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (at === undefined || !Number.isFinite(at)) return policy.defaultMs;
  return Math.max(0, Math.min(at - now, policy.maxMs));
}
