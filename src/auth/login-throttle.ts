import { setTimeout as sleep } from 'node:timers/promises';

/** How one kind of key (a login, a client address) is slowed down after failures. */
export interface BackoffPolicy {
  /** Failures in a row that cost nothing (typos happen). */
  readonly free: number;
  /** The delay after the first failure past `free`; each further failure doubles it. */
  readonly baseMs: number;
  readonly capMs: number;
}

export interface ThrottleOptions {
  readonly login: BackoffPolicy;
  /**
   * Per client address. More lenient than per login: many users may share an address (an office behind NAT,
   * or an application that does not pass its users' addresses on).
   */
  readonly address: BackoffPolicy;
  /** A key without a failure for this long starts from zero again. */
  readonly forgetAfterMs: number;
  /** An attempt that would have to wait longer than this is refused at once (a queue of attackers holds nothing). */
  readonly maxWaitMs: number;
  /** Keys remembered at most; the least recently failed go first. Bounds memory under a spray of names or addresses. */
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = Object.freeze({
  login: Object.freeze({ free: 3, baseMs: 500, capMs: 30_000 }),
  address: Object.freeze({ free: 10, baseMs: 250, capMs: 10_000 }),
  forgetAfterMs: 15 * 60_000,
  maxWaitMs: 60_000,
  maxKeys: 100_000,
});

export interface ThrottleKeys {
  /** Profile and name, lower-cased: one account. */
  readonly login: string;
  readonly address: string | undefined;
}

/** What `admit` decided: go ahead after waiting `waitedMs`, or refused because the wait would be too long. */
export type Admission = { readonly admitted: true; readonly waitedMs: number } | { readonly admitted: false; readonly wouldWaitMs: number };

interface KeyState {
  failures: number;
  /** Epoch ms before which the next attempt may not start. */
  notBefore: number;
  lastFailure: number;
}

/**
 * Exponential backoff per login and per client address, in memory. An attempt waits until both its keys allow
 * it; while a key is in backoff, each admitted attempt pushes the key's next slot one delay further, so parallel
 * attempts queue up one delay apart instead of all slipping through after one wait. A success clears the login's
 * count (the password is known); it does not clear the address's, or one valid account would reset an attacker's
 * address. Counts are forgotten after a quiet period, and the oldest keys are dropped beyond `maxKeys`.
 */
export class LoginThrottle {
  readonly #options: ThrottleOptions;
  readonly #now: () => number;
  /** Insertion order is recency order: a key is re-inserted on every failure. */
  readonly #keys = new Map<string, KeyState>();

  constructor(options: Partial<ThrottleOptions> = {}, now: () => number = Date.now) {
    this.#options = { ...DEFAULT_THROTTLE, ...options };
    this.#now = now;
  }

  /** Consecutive failures currently counted for a login (0 when forgotten). */
  failures(keys: ThrottleKeys): number {
    return this.#state(loginKey(keys))?.failures ?? 0;
  }

  /** Waits until the attempt may go ahead (or refuses it at once when that would take longer than `maxWaitMs`). */
  async admit(keys: ThrottleKeys): Promise<Admission> {
    let waited = 0;
    for (;;) {
      const now = this.#now();
      const states = this.#states(keys);
      const until = Math.max(now, ...states.map(([, s]) => s.notBefore));
      if (until <= now) {
        for (const [policy, state] of states) {
          const delay = delayFor(policy, state.failures);
          if (delay > 0) state.notBefore = now + delay;
        }
        return { admitted: true, waitedMs: waited };
      }
      if (until - now + waited > this.#options.maxWaitMs) return { admitted: false, wouldWaitMs: until - now };
      await sleep(until - now);
      waited += this.#now() - now;
    }
  }

  /** Counts a failed attempt against both keys. */
  failed(keys: ThrottleKeys): void {
    const now = this.#now();
    this.#bump(loginKey(keys), this.#options.login, now);
    const address = addressKey(keys);
    if (address !== undefined) this.#bump(address, this.#options.address, now);
  }

  /** A right password: the login starts from zero. */
  succeeded(keys: ThrottleKeys): void {
    this.#keys.delete(loginKey(keys));
  }

  #bump(key: string, policy: BackoffPolicy, now: number): void {
    const state = this.#state(key) ?? { failures: 0, notBefore: 0, lastFailure: 0 };
    state.failures += 1;
    state.lastFailure = now;
    state.notBefore = Math.max(state.notBefore, now + delayFor(policy, state.failures));
    this.#keys.delete(key);
    this.#keys.set(key, state);
    while (this.#keys.size > this.#options.maxKeys) {
      const oldest = this.#keys.keys().next();
      if (oldest.done === true) break;
      this.#keys.delete(oldest.value);
    }
  }

  #states(keys: ThrottleKeys): Array<readonly [BackoffPolicy, KeyState]> {
    const states: Array<readonly [BackoffPolicy, KeyState]> = [];
    const login = this.#state(loginKey(keys));
    if (login !== undefined) states.push([this.#options.login, login]);
    const address = addressKey(keys);
    const byAddress = address === undefined ? undefined : this.#state(address);
    if (byAddress !== undefined) states.push([this.#options.address, byAddress]);
    return states;
  }

  /** The key's state, or undefined when it has none or it has been quiet long enough to be forgotten. */
  #state(key: string): KeyState | undefined {
    const state = this.#keys.get(key);
    if (state === undefined) return undefined;
    const now = this.#now();
    if (now - state.lastFailure > this.#options.forgetAfterMs && now >= state.notBefore) {
      this.#keys.delete(key);
      return undefined;
    }
    return state;
  }
}

/** The pause a key's next attempt owes after `failures` failures in a row. */
export function delayFor(policy: BackoffPolicy, failures: number): number {
  const over = failures - policy.free;
  if (over <= 0) return 0;
  // 2^30 already exceeds any sensible cap; the exponent is bounded so the number stays finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(over - 1, 30));
}

function loginKey(keys: ThrottleKeys): string {
  return `login\0${keys.login}`;
}

function addressKey(keys: ThrottleKeys): string | undefined {
  return keys.address === undefined ? undefined : `address\0${keys.address}`;
}
