import type { Logger } from '../shared/index.js';
import type { SyncTrigger } from '../sync/index.js';
import { retryDelay, type BackoffPolicy } from './backoff.js';
import type { Clock, ClockTimer } from './clock.js';
import type { Timing } from './schedule-plan.js';

/** How a run of one profile ended, as far as scheduling cares: a failed run is retried with backoff. */
export type RunResult = 'completed' | 'failed';

/** Runs one profile (users, then groups). Must not throw; a throw counts as a failure. */
export type RunProfile = (name: string, trigger: SyncTrigger, signal: AbortSignal) => Promise<RunResult>;

export interface SchedulerOptions {
  readonly clock: Clock;
  readonly run: RunProfile;
  readonly logger: Logger;
  readonly backoff: BackoffPolicy;
  /** Told of each run skipped because the profile's previous run was still going. */
  readonly onOverlap?: (name: string) => void;
  /**
   * The longest single timer: a job due later wakes up at least this often to check the wall clock again, so that
   * a suspended machine or a clock step does not leave a run asleep for the wrong time. Default one minute.
   */
  readonly maxSleepMs?: number;
}

/** A run off the cron: the first run of a newly enabled profile, or a retry after a failure. */
interface ExtraRun {
  readonly at: number;
  readonly trigger: SyncTrigger;
  readonly reason: 'first-run' | 'retry';
  readonly cancel: () => void;
}

interface Job {
  timing: Timing;
  cronDue: number | undefined;
  cancelCron: () => void;
  extra: ExtraRun | undefined;
  /** Consecutive failed runs. */
  failures: number;
}

interface InFlight {
  readonly done: Promise<void>;
  readonly controller: AbortController;
}

/**
 * Runs each profile on its cron timing, plus a first run soon after it is enabled and retries with capped
 * exponential backoff after a failure. One profile never has two runs in flight in this process: a run that
 * would overlap is skipped and logged. (Across processes the profile's advisory lock does the same.)
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #inFlight = new Map<string, InFlight>();
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  /**
   * Schedules a profile, or gives a scheduled one a new timing (keeping its failure count and any pending retry).
   * `firstRunInMs` adds a run that long from now, ahead of the cron.
   */
  set(name: string, timing: Timing, firstRun?: { readonly inMs: number; readonly trigger: SyncTrigger }): void {
    if (this.#stopped) return;
    let job = this.#jobs.get(name);
    if (job === undefined) {
      job = { timing, cronDue: undefined, cancelCron: () => undefined, extra: undefined, failures: 0 };
      this.#jobs.set(name, job);
    } else {
      job.cancelCron();
      job.timing = timing;
    }
    this.#armCron(name, job, this.#options.clock.now());
    if (firstRun !== undefined) this.#setExtra(name, job, this.#options.clock.now() + firstRun.inMs, firstRun.trigger, 'first-run');
  }

  /** Unschedules a profile. A run in flight goes on to its end under the config it started with. */
  remove(name: string): void {
    const job = this.#jobs.get(name);
    if (job === undefined) return;
    job.cancelCron();
    job.extra?.cancel();
    this.#jobs.delete(name);
  }

  /** The next time the profile runs (cron or first run or retry, whichever is first), or undefined. */
  nextRunAt(name: string): number | undefined {
    const job = this.#jobs.get(name);
    if (job === undefined) return undefined;
    const times = [job.cronDue, job.extra?.at].filter((t): t is number => t !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** The names of the profiles whose run is in flight. */
  running(): ReadonlyArray<string> {
    return [...this.#inFlight.keys()];
  }

  /** Starts nothing more, ever: every timer is cancelled. Runs in flight go on. Safe twice. */
  stop(): void {
    this.#stopped = true;
    for (const name of [...this.#jobs.keys()]) this.remove(name);
  }

  /** Resolves when no run is in flight, or false after `timeoutMs` if one still is. */
  async idle(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const deadline = this.#options.clock.now() + timeoutMs;
    while (this.#inFlight.size > 0) {
      const remaining = deadline - this.#options.clock.now();
      if (remaining <= 0) return false;
      const settled = Promise.all([...this.#inFlight.values()].map((f) => f.done)).then(() => true);
      if (!Number.isFinite(remaining)) {
        await settled;
        continue;
      }
      let timer: ClockTimer | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = this.#options.clock.setTimeout(() => resolve(false), remaining);
      });
      const finished = await Promise.race([settled, timedOut]);
      if (timer !== undefined) this.#options.clock.clearTimeout(timer);
      if (!finished) return false;
    }
    return true;
  }

  /** Aborts every run in flight (each rolls back and ends as failed). */
  abortAll(reason: string): void {
    for (const flight of this.#inFlight.values()) flight.controller.abort(new Error(reason));
  }

  #armCron(name: string, job: Job, after: number): void {
    const due = job.timing.next(after);
    job.cronDue = due;
    if (due === undefined) {
      job.cancelCron = () => undefined;
      return;
    }
    job.cancelCron = this.#at(due, () => {
      if (this.#jobs.get(name) !== job) return;
      // Strictly after the instant that fired, even if the timer was late, so that one instant never runs twice.
      this.#armCron(name, job, Math.max(due, this.#options.clock.now()));
      this.#start(name, 'schedule', 'cron');
    });
  }

  #setExtra(name: string, job: Job, at: number, trigger: SyncTrigger, reason: ExtraRun['reason']): void {
    job.extra?.cancel();
    const cancel = this.#at(at, () => {
      if (this.#jobs.get(name) !== job || job.extra?.cancel !== cancel) return;
      job.extra = undefined;
      this.#start(name, trigger, reason);
    });
    job.extra = { at, trigger, reason, cancel };
  }

  /** Calls `fn` once the clock reaches `at`, sleeping in bounded steps; returns a cancel function. */
  #at(at: number, fn: () => void): () => void {
    const { clock } = this.#options;
    const maxSleep = this.#options.maxSleepMs ?? 60_000;
    let timer: ClockTimer | undefined;
    let cancelled = false;
    const tick = (): void => {
      if (cancelled) return;
      const remaining = at - clock.now();
      if (remaining <= 0) {
        timer = undefined;
        fn();
        return;
      }
      timer = clock.setTimeout(tick, Math.min(remaining, maxSleep));
    };
    timer = clock.setTimeout(tick, Math.max(0, Math.min(at - clock.now(), maxSleep)));
    return () => {
      cancelled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    };
  }

  #start(name: string, trigger: SyncTrigger, reason: 'cron' | ExtraRun['reason']): void {
    if (this.#stopped) return;
    const { logger } = this.#options;
    if (this.#inFlight.has(name)) {
      logger.warn({ event: 'sync.skipped', profile: name, reason: 'overlap', due: reason }, `${name}: the previous run is still going; this ${reason} run is skipped`);
      this.#options.onOverlap?.(name);
      return;
    }
    const controller = new AbortController();
    const done = this.#options
      .run(name, trigger, controller.signal)
      .catch((err: unknown) => {
        logger.error({ event: 'sync.crashed', profile: name, err }, `${name}: the run failed unexpectedly`);
        return 'failed' as const;
      })
      .then((result) => {
        this.#inFlight.delete(name);
        this.#finished(name, result);
      });
    this.#inFlight.set(name, { done, controller });
  }

  #finished(name: string, result: RunResult): void {
    const job = this.#jobs.get(name);
    if (job === undefined || this.#stopped) return;
    // Whatever ended, a pending first run or retry is now stale: this run has just done its work.
    job.extra?.cancel();
    job.extra = undefined;
    if (result === 'completed') {
      job.failures = 0;
      return;
    }
    job.failures += 1;
    const now = this.#options.clock.now();
    const delayMs = retryDelay(job.failures, this.#options.backoff);
    const retryAt = now + delayMs;
    const attempt = job.failures;
    if (job.cronDue !== undefined && job.cronDue <= retryAt) {
      this.#options.logger.info(
        { event: 'sync.retry_scheduled', profile: name, attempt, at: new Date(job.cronDue).toISOString(), delayMs: job.cronDue - now, by: 'cron' },
        `${name}: failed ${attempt} time(s) in a row; the next scheduled run comes first`,
      );
      return;
    }
    this.#setExtra(name, job, retryAt, 'schedule', 'retry');
    this.#options.logger.info(
      { event: 'sync.retry_scheduled', profile: name, attempt, at: new Date(retryAt).toISOString(), delayMs, by: 'backoff' },
      `${name}: failed ${attempt} time(s) in a row; retrying in ${Math.round(delayMs / 1000)} s`,
    );
  }
}
