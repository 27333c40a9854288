import { setTimeout as sleep } from 'node:timers/promises';

/** Weight of the newest sample in the moving average. */
const WEIGHT = 0.2;

/**
 * How long a real wrong-password check of a profile takes (search plus bind), as a moving average. Refusals that
 * skip the real bind (an unknown user, a disabled row) are held back to that duration, so that how long an answer
 * takes does not tell whether an account exists.
 */
export class FailureTiming {
  readonly #average = new Map<string, number>();

  /** Records the duration of a wrong-password check. */
  record(profile: string, ms: number): void {
    const previous = this.#average.get(profile);
    this.#average.set(profile, previous === undefined ? ms : previous + WEIGHT * (ms - previous));
  }

  /** Waits until `startedAt` (a `performance.now()` value) is as far back as a typical wrong-password check. */
  async pad(profile: string, startedAt: number): Promise<void> {
    const typical = this.#average.get(profile);
    if (typical === undefined) return;
    const remaining = startedAt + typical - performance.now();
    if (remaining > 1) await sleep(remaining);
  }
}
