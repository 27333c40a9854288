import type { DeletesConfig } from '../config/index.js';
import type { DeleteGuard } from './types.js';

export interface GuardInput {
  /** `users` or `groups`, for the reason. */
  readonly noun: string;
  readonly deletes: DeletesConfig;
  /** The profile's live rows before the run. */
  readonly live: number;
  /** Live rows the plan removes. */
  readonly removals: number;
  /** How many entries the directory returned (usable or skipped). */
  readonly returned: number;
}

/**
 * The delete guard: removals are measured against the profile's live rows, so an empty or truncated search
 * result reads as what it is (an empty result with live rows is 100%, where Group-Office computed 0% and
 * deleted everyone). It trips when the percentage exceeds `maxPercentage` or the count exceeds `maxCount`.
 * The comparison is done in integers (removals * 100 > max * live) so that exactly the limit passes.
 */
export function evaluateGuard(input: GuardInput): DeleteGuard {
  const { deletes, live, noun } = input;
  const removals = deletes.enabled ? input.removals : 0;
  const percentage = live === 0 ? 0 : (removals * 100) / live;
  const base = { removals, live, percentage, maxPercentage: deletes.maxPercentage, maxCount: deletes.maxCount };
  if (removals === 0) return { ...base, tripped: false, reason: undefined };

  const rounded = Math.round(percentage * 10) / 10;
  const empty = input.returned === 0 ? ': the directory returned no entries' : '';
  if (removals * 100 > deletes.maxPercentage * live) {
    return {
      ...base,
      tripped: true,
      reason:
        `would remove ${removals} of ${live} live ${noun} (${rounded}%)${empty}, more than deletes.maxPercentage ` +
        `${deletes.maxPercentage}%; nothing was written. If this is intended, raise the limit ` +
        `(deletes.maxPercentage, or --max-delete-percentage ${Math.ceil(percentage)}) for one run`,
    };
  }
  if (deletes.maxCount !== undefined && removals > deletes.maxCount) {
    return {
      ...base,
      tripped: true,
      reason:
        `would remove ${removals} of ${live} live ${noun}${empty}, more than deletes.maxCount ${deletes.maxCount}; ` +
        `nothing was written. If this is intended, raise deletes.maxCount`,
    };
  }
  return { ...base, tripped: false, reason: undefined };
}
