import { DirectoryPool } from './directory-pool.js';
import { FailureTiming } from './failure-timing.js';
import { LoginThrottle, type ThrottleOptions } from './login-throttle.js';

export interface AuthRuntimeOptions {
  readonly throttle?: Partial<ThrottleOptions>;
  /** Service-bound search connections kept per profile. Default 2. */
  readonly poolSize?: number;
  /**
   * How long a login that must write its row waits for the profile's lock (held by a sync) before it gives up
   * with `auth.busy`. Default 30 s.
   */
  readonly lockWaitMs?: number;
}

const DEFAULT_LOCK_WAIT_MS = 30_000;

/**
 * What outlives one login in a long-running process: the failure backoff, the kept LDAP connections, the typical
 * duration of a failed check, and the queue that lets one login per profile at a time go for the profile's lock.
 * The daemon keeps one across config reloads; a one-shot caller (`ldapsync login`) gets a fresh one per call.
 */
export class AuthRuntime implements AsyncDisposable {
  readonly throttle: LoginThrottle;
  readonly directories: DirectoryPool;
  readonly timing = new FailureTiming();
  readonly lockWaitMs: number;
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: AuthRuntimeOptions = {}) {
    this.throttle = new LoginThrottle(options.throttle);
    this.directories = new DirectoryPool({ size: options.poolSize });
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  /**
   * Runs row writes of one profile one after another in this process: logins that create rows at the same time
   * queue here instead of all polling the store's lock.
   */
  serialize<T>(profile: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#writes.get(profile) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#writes.set(profile, tail);
    void tail.then(() => {
      if (this.#writes.get(profile) === tail) this.#writes.delete(profile);
    });
    return next;
  }

  /** Closes the kept connections. Safe twice; never throws. */
  close(): Promise<void> {
    return this.directories.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
