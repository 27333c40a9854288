/** How long to wait before retrying a failed run. */
export interface BackoffPolicy {
  /** Delay after the first failure, milliseconds. */
  readonly baseMs: number;
  /** No delay is longer than this. */
  readonly maxMs: number;
}

/**
 * Capped exponential backoff: base, 2×base, 4×base, … up to max, for the 1st, 2nd, 3rd … consecutive failure.
 * No jitter: replicas that retry at the same moment meet at the profile's advisory lock and all but one skip.
 */
export function retryDelay(failures: number, policy: BackoffPolicy): number {
  if (failures < 1) return 0;
  // 2^30 already exceeds any sensible cap; stopping there keeps the arithmetic finite.
  const factor = 2 ** Math.min(failures - 1, 30);
  return Math.min(policy.maxMs, policy.baseMs * factor);
}
