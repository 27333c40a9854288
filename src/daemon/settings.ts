import { LdapsyncError } from '../shared/index.js';
import type { BackoffPolicy } from './backoff.js';

/**
 * The daemon's timings. The defaults suit production; the environment variables exist so that tests and soak
 * runs need not wait minutes, and so that an operator can lengthen the shutdown grace for very large syncs.
 */
export interface DaemonSettings {
  /** LDAPSYNC_FIRST_RUN_DELAY_MS: how long after start or reload a newly enabled profile first runs. */
  readonly firstRunDelayMs: number;
  /** LDAPSYNC_RETRY_BASE_MS and LDAPSYNC_RETRY_MAX_MS: backoff after failed runs. */
  readonly backoff: BackoffPolicy;
  /** LDAPSYNC_SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for a running sync before aborting (rolling back) it. */
  readonly shutdownTimeoutMs: number;
  /** LDAPSYNC_RELOAD_DEBOUNCE_MS: quiet time after the last change to the config file before it is re-read. */
  readonly reloadDebounceMs: number;
}

export const DEFAULT_SETTINGS: DaemonSettings = Object.freeze({
  firstRunDelayMs: 60_000,
  backoff: Object.freeze({ baseMs: 30_000, maxMs: 15 * 60_000 }),
  shutdownTimeoutMs: 30_000,
  reloadDebounceMs: 250,
});

/** Reads the settings from the environment; a malformed value is an error naming the variable. */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): DaemonSettings {
  const read = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new LdapsyncError('daemon.setting_invalid', `${name} must be a whole number of milliseconds, not "${text}"`);
    }
    return value;
  };
  const baseMs = read('LDAPSYNC_RETRY_BASE_MS', DEFAULT_SETTINGS.backoff.baseMs);
  const maxMs = read('LDAPSYNC_RETRY_MAX_MS', Math.max(DEFAULT_SETTINGS.backoff.maxMs, baseMs));
  if (maxMs < baseMs) {
    throw new LdapsyncError('daemon.setting_invalid', `LDAPSYNC_RETRY_MAX_MS (${maxMs}) is less than LDAPSYNC_RETRY_BASE_MS (${baseMs})`);
  }
  return Object.freeze({
    firstRunDelayMs: read('LDAPSYNC_FIRST_RUN_DELAY_MS', DEFAULT_SETTINGS.firstRunDelayMs),
    backoff: Object.freeze({ baseMs, maxMs }),
    shutdownTimeoutMs: read('LDAPSYNC_SHUTDOWN_TIMEOUT_MS', DEFAULT_SETTINGS.shutdownTimeoutMs),
    reloadDebounceMs: read('LDAPSYNC_RELOAD_DEBOUNCE_MS', DEFAULT_SETTINGS.reloadDebounceMs),
  });
}
