import { DirectoryPool } from './directory-pool.js';
import { FailureTiming } from './failure-timing.js';
import { LoginThrottle, type ThrottleOptions } from './login-throttle.js';
import { RowWriteQueue } from './row-writes.js';

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
 * duration of a failed check, and the queue that writes the rows of successful logins a batch at a time.
 * The daemon keeps one across config reloads; a one-shot caller (`ldapsync login`) gets a fresh one per call.
 */
export class AuthRuntime implements AsyncDisposable {
  readonly throttle: LoginThrottle;
  readonly directories: DirectoryPool;
  readonly timing = new FailureTiming();
  readonly lockWaitMs: number;
  readonly rowWrites = new RowWriteQueue();

  constructor(options: AuthRuntimeOptions = {}) {
    this.throttle = new LoginThrottle(options.throttle);
    this.directories = new DirectoryPool({ size: options.poolSize });
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  }

  /** Closes the kept connections. Safe twice; never throws. */
  close(): Promise<void> {
    return this.directories.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
