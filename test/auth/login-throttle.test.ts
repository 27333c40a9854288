import { describe, expect, it } from 'vitest';
import { LoginThrottle, delayFor } from '../../src/auth/index.js';

const FREE_ADDRESS = { free: 1000, baseMs: 1, capMs: 1 };

describe('delayFor', () => {
  it('is free for the first failures, then doubles from the base up to the cap', () => {
    const policy = { free: 2, baseMs: 100, capMs: 1_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 1_000_000].map((n) => delayFor(policy, n))).toEqual([0, 0, 0, 100, 200, 400, 800, 1_000, 1_000]);
  });
});

describe('LoginThrottle', () => {
  it('makes a login wait longer after each failure, and forgets it on success', async () => {
    const throttle = new LoginThrottle({ login: { free: 1, baseMs: 20, capMs: 80 }, address: FREE_ADDRESS });
    const keys = { login: 'p\0alice', address: undefined };
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const admission = await throttle.admit(keys);
      if (!admission.admitted) throw new Error('refused');
      waits.push(admission.waitedMs);
      throttle.failed(keys);
    }
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBe(0);
    const expected = [20, 40, 80, 80];
    expected.forEach((ms, i) => {
      expect(waits[i + 2]).toBeGreaterThanOrEqual(ms - 2);
      expect(waits[i + 2]).toBeLessThan(ms + 60);
    });
    expect(throttle.failures(keys)).toBe(6);
    throttle.succeeded(keys);
    expect(throttle.failures(keys)).toBe(0);
  });

  it('spaces parallel attempts one delay apart instead of letting them through together', async () => {
    const throttle = new LoginThrottle({ login: { free: 0, baseMs: 40, capMs: 40 }, address: FREE_ADDRESS });
    const keys = { login: 'p\0bob', address: undefined };
    throttle.failed(keys);
    const started = performance.now();
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        await throttle.admit(keys);
        done.push(performance.now() - started);
      }),
    );
    done.sort((a, b) => a - b);
    // 40, 80, 120, 160 ms: each admitted attempt reserves the next slot.
    expect(done[0]).toBeGreaterThanOrEqual(38);
    expect(done[3]).toBeGreaterThanOrEqual(155);
  });

  it('counts an address across logins and does not clear it on a success', async () => {
    const throttle = new LoginThrottle({ login: { free: 1000, baseMs: 1, capMs: 1 }, address: { free: 2, baseMs: 30, capMs: 30 } });
    for (const name of ['a', 'b', 'c']) throttle.failed({ login: name, address: '192.0.2.7' });
    throttle.succeeded({ login: 'd', address: '192.0.2.7' });
    const slowed = await throttle.admit({ login: 'e', address: '192.0.2.7' });
    expect(slowed).toMatchObject({ admitted: true });
    expect(slowed.admitted && slowed.waitedMs).toBeGreaterThanOrEqual(28);
    expect(await throttle.admit({ login: 'e', address: '192.0.2.8' })).toEqual({ admitted: true, waitedMs: 0 });
  });

  it('refuses at once an attempt that would wait longer than maxWaitMs', async () => {
    const throttle = new LoginThrottle({ login: { free: 0, baseMs: 10_000, capMs: 10_000 }, address: FREE_ADDRESS, maxWaitMs: 500 });
    const keys = { login: 'x', address: undefined };
    throttle.failed(keys);
    const admission = await throttle.admit(keys);
    expect(admission.admitted).toBe(false);
    expect(admission.admitted ? 0 : admission.wouldWaitMs).toBeGreaterThan(9_000);
  });

  it('forgets a key after a quiet period, and keeps at most maxKeys', async () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ login: { free: 0, baseMs: 100, capMs: 100 }, address: FREE_ADDRESS, forgetAfterMs: 60_000, maxKeys: 3 }, () => now);
    const keys = { login: 'quiet', address: undefined };
    throttle.failed(keys);
    expect(throttle.failures(keys)).toBe(1);
    now += 60_001;
    expect(throttle.failures(keys)).toBe(0);
    expect(await throttle.admit(keys)).toEqual({ admitted: true, waitedMs: 0 });

    for (const name of ['k1', 'k2', 'k3', 'k4']) throttle.failed({ login: name, address: undefined });
    expect(throttle.failures({ login: 'k1', address: undefined })).toBe(0);
    expect(throttle.failures({ login: 'k4', address: undefined })).toBe(1);
  });
});
