import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/daemon/backoff.js';
import { DEFAULT_SETTINGS, settingsFromEnv } from '../../src/daemon/settings.js';

describe('retryDelay', () => {
  it('doubles from the base per consecutive failure and stops at the cap', () => {
    const policy = { baseMs: 1_000, maxMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6, 1000].map((n) => retryDelay(n, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(retryDelay(0, policy)).toBe(0);
  });
});

describe('settingsFromEnv', () => {
  it('uses production defaults when nothing is set: first run a minute after start, 30 s shutdown grace', () => {
    expect(settingsFromEnv({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS.firstRunDelayMs).toBe(60_000);
    expect(DEFAULT_SETTINGS.shutdownTimeoutMs).toBe(30_000);
  });

  it('reads each LDAPSYNC_*_MS variable', () => {
    expect(
      settingsFromEnv({
        LDAPSYNC_FIRST_RUN_DELAY_MS: '500',
        LDAPSYNC_RETRY_BASE_MS: '100',
        LDAPSYNC_RETRY_MAX_MS: '800',
        LDAPSYNC_SHUTDOWN_TIMEOUT_MS: '2000',
        LDAPSYNC_RELOAD_DEBOUNCE_MS: '50',
      }),
    ).toEqual({ firstRunDelayMs: 500, backoff: { baseMs: 100, maxMs: 800 }, shutdownTimeoutMs: 2000, reloadDebounceMs: 50 });
  });

  it('names the variable that is malformed', () => {
    expect(() => settingsFromEnv({ LDAPSYNC_FIRST_RUN_DELAY_MS: '1m' })).toThrow(/LDAPSYNC_FIRST_RUN_DELAY_MS/);
    expect(() => settingsFromEnv({ LDAPSYNC_SHUTDOWN_TIMEOUT_MS: '-5' })).toThrow(/LDAPSYNC_SHUTDOWN_TIMEOUT_MS/);
    expect(() => settingsFromEnv({ LDAPSYNC_RETRY_BASE_MS: '5000', LDAPSYNC_RETRY_MAX_MS: '100' })).toThrow(/LDAPSYNC_RETRY_MAX_MS/);
  });
});
