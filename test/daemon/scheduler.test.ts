import { describe, expect, it } from 'vitest';
import { Scheduler, type RunResult } from '../../src/daemon/scheduler.js';
import { cronTiming } from '../../src/daemon/schedule-plan.js';
import type { SyncTrigger } from '../../src/sync/index.js';
import { FakeClock } from './fake-clock.js';
import { captureLogger } from './log-capture.js';

const START = Date.parse('2025-03-01T10:00:00.000Z');
const BACKOFF = { baseMs: 30_000, maxMs: 240_000 };

interface Call {
  readonly name: string;
  readonly trigger: SyncTrigger;
  readonly at: number;
  readonly signal: AbortSignal;
  finish(result: RunResult): void;
}

/** A runner whose runs last until the test finishes them (or, with `auto`, end at once with that result). */
function harness(options: { auto?: RunResult | (() => RunResult) } = {}) {
  const clock = new FakeClock(START);
  const log = captureLogger();
  const calls: Call[] = [];
  const overlaps: string[] = [];
  const scheduler = new Scheduler({
    clock,
    logger: log.logger,
    backoff: BACKOFF,
    onOverlap: (name) => overlaps.push(name),
    run: (name, trigger, signal) =>
      new Promise<RunResult>((resolve) => {
        calls.push({ name, trigger, at: clock.now(), signal, finish: resolve });
        const auto = options.auto;
        if (auto !== undefined) resolve(typeof auto === 'function' ? auto() : auto);
      }),
  });
  const offsets = (name?: string): number[] => calls.filter((c) => name === undefined || c.name === name).map((c) => (c.at - START) / 1000);
  return { clock, log, calls, overlaps, scheduler, offsets };
}

describe('Scheduler', () => {
  it('runs a profile at each instant of its cron expression, in its time zone', async () => {
    const h = harness({ auto: 'completed' });
    h.scheduler.set('pe', cronTiming('*/10 * * * * *', undefined));
    h.scheduler.set('daily', cronTiming('30 11 * * *', 'Europe/Amsterdam'));
    await h.clock.advance(35_000);
    expect(h.offsets('pe')).toEqual([10, 20, 30]);
    expect(h.calls.every((c) => c.trigger === 'schedule')).toBe(true);
    // 11:30 in Amsterdam (UTC+1 in March) is 10:30 UTC: 30 minutes after the start.
    await h.clock.advance(30 * 60_000);
    expect(h.offsets('daily')).toEqual([1800]);
  });

  it('gives a newly enabled profile a first run after the delay, then runs it on its cron', async () => {
    const h = harness({ auto: 'completed' });
    h.scheduler.set('pe', cronTiming('0 * * * *', undefined), { inMs: 60_000, trigger: 'reload' });
    expect(h.scheduler.nextRunAt('pe')).toBe(START + 60_000);
    await h.clock.advance(2 * 3600_000);
    expect(h.offsets()).toEqual([60, 3600, 7200]);
    expect(h.calls.map((c) => c.trigger)).toEqual(['reload', 'schedule', 'schedule']);
  });

  it('skips and logs a run that would overlap the one still going, and never runs one profile twice at once', async () => {
    const h = harness();
    h.scheduler.set('pe', cronTiming('*/10 * * * * *', undefined));
    await h.clock.advance(10_000);
    expect(h.calls).toHaveLength(1);
    await h.clock.advance(20_000); // the instants at 20 s and 30 s find the first run still going
    expect(h.calls).toHaveLength(1);
    expect(h.overlaps).toEqual(['pe', 'pe']);
    expect(h.log.events('sync.skipped').map((l) => [l['profile'], l['reason']])).toEqual([
      ['pe', 'overlap'],
      ['pe', 'overlap'],
    ]);
    expect(h.scheduler.running()).toEqual(['pe']);
    h.calls[0]?.finish('completed');
    await h.clock.advance(10_000);
    expect(h.offsets()).toEqual([10, 40]);
  });

  it('retries a failed run with capped exponential backoff, and a success resets it', async () => {
    let fail = true;
    const h = harness({ auto: () => (fail ? 'failed' : 'completed') });
    h.scheduler.set('pe', cronTiming('0 0 * * *', undefined), { inMs: 1_000, trigger: 'schedule' });
    await h.clock.advance(1_000 + 30_000 + 60_000 + 120_000 + 240_000 + 240_000);
    // The first run at 1 s, then 30 s, 60 s, 120 s, 240 s, and 240 s again (the cap) later.
    expect(h.offsets()).toEqual([1, 31, 91, 211, 451, 691]);
    expect(h.log.events('sync.retry_scheduled').map((l) => l['attempt'])).toEqual([1, 2, 3, 4, 5, 6]);
    fail = false;
    await h.clock.advance(240_000);
    expect(h.offsets()).toHaveLength(7);
    await h.clock.advance(3600_000); // succeeded: no more retries until the cron's midnight
    expect(h.offsets()).toHaveLength(7);
    fail = true;
    await h.clock.advance(24 * 3600_000);
    // Midnight failed; the count had been reset, so the retry comes 30 s later, not 240 s.
    const midnight = (Date.parse('2025-03-02T00:00:00Z') - START) / 1000;
    expect(h.offsets().slice(7, 9)).toEqual([midnight, midnight + 30]);
  });

  it('lets the cron take over when the next scheduled run comes before the retry', async () => {
    const h = harness({ auto: 'failed' });
    h.scheduler.set('pe', cronTiming('*/20 * * * * *', undefined));
    await h.clock.advance(65_000);
    expect(h.offsets()).toEqual([20, 40, 60]);
    expect(h.log.events('sync.retry_scheduled').map((l) => l['by'])).toEqual(['cron', 'cron', 'cron']);
  });

  it('forgets a pending first run once a cron run has done the work', async () => {
    const h = harness({ auto: 'completed' });
    h.scheduler.set('pe', cronTiming('*/30 * * * * *', undefined), { inMs: 60_000, trigger: 'reload' });
    await h.clock.advance(61_000);
    expect(h.offsets()).toEqual([30, 60]);
  });

  it('unschedules a removed profile; its run in flight goes on to the end and is not retried', async () => {
    const h = harness();
    h.scheduler.set('pe', cronTiming('*/10 * * * * *', undefined));
    await h.clock.advance(10_000);
    h.scheduler.remove('pe');
    expect(h.calls[0]?.signal.aborted).toBe(false);
    h.calls[0]?.finish('failed');
    await h.clock.advance(600_000);
    expect(h.calls).toHaveLength(1);
    expect(h.scheduler.nextRunAt('pe')).toBeUndefined();
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('keeps a profile that is re-added while its old run is still going from running twice', async () => {
    const h = harness();
    h.scheduler.set('pe', cronTiming('*/10 * * * * *', undefined));
    await h.clock.advance(10_000);
    h.scheduler.remove('pe');
    h.scheduler.set('pe', cronTiming('*/5 * * * * *', undefined), { inMs: 1_000, trigger: 'reload' });
    await h.clock.advance(5_000);
    expect(h.calls).toHaveLength(1);
    expect(h.overlaps.length).toBeGreaterThan(0);
  });

  it('moves a rescheduled profile to its new timing and keeps its failure count', async () => {
    const h = harness({ auto: 'failed' });
    h.scheduler.set('pe', cronTiming('0 0 * * *', undefined), { inMs: 0, trigger: 'schedule' });
    await h.clock.advance(1);
    expect(h.scheduler.nextRunAt('pe')).toBe(START + 30_000);
    h.scheduler.set('pe', cronTiming('0 * * * *', undefined));
    // The pending retry stays; after it fails again the backoff has doubled, and the hourly cron is the new timing.
    await h.clock.advance(30_000);
    expect(h.scheduler.nextRunAt('pe')).toBe(START + 90_000);
    await h.clock.advance(3600_000);
    expect(h.offsets()).toContain(3600);
  });

  it('wakes up in bounded steps, so a clock that jumps (suspend, NTP) still fires a due run once', async () => {
    const h = harness({ auto: 'completed' });
    h.scheduler.set('pe', cronTiming('0 12 * * *', undefined)); // 12:00 UTC, two hours after the start
    h.clock.jump(3 * 3600_000); // the machine slept through noon
    await h.clock.advance(60_000);
    expect(h.calls).toHaveLength(1);
    expect(h.scheduler.nextRunAt('pe')).toBe(Date.parse('2025-03-02T12:00:00Z'));
  });

  it('after stop starts nothing; idle waits for the run in flight or times out; abortAll aborts it', async () => {
    const h = harness();
    h.scheduler.set('pe', cronTiming('*/10 * * * * *', undefined));
    await h.clock.advance(10_000);
    h.scheduler.stop();
    h.scheduler.stop();
    const idle = h.scheduler.idle(5_000);
    await h.clock.advance(5_000);
    expect(await idle).toBe(false);
    h.scheduler.abortAll('shutdown timeout');
    expect(h.calls[0]?.signal.aborted).toBe(true);
    const idleAgain = h.scheduler.idle(5_000);
    h.calls[0]?.finish('failed');
    await h.clock.advance(0);
    expect(await idleAgain).toBe(true);
    await h.clock.advance(600_000);
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('counts a runner that throws as a failed run and retries it', async () => {
    const clock = new FakeClock(START);
    const log = captureLogger();
    let calls = 0;
    const scheduler = new Scheduler({
      clock,
      logger: log.logger,
      backoff: BACKOFF,
      run: () => {
        calls += 1;
        return Promise.reject(new Error('boom'));
      },
    });
    scheduler.set('pe', cronTiming('0 0 * * *', undefined), { inMs: 0, trigger: 'schedule' });
    await clock.advance(30_000);
    expect(calls).toBe(2);
    expect(log.events('sync.crashed')).toHaveLength(2);
  });
});
