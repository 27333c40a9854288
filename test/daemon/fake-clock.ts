import type { Clock, ClockTimer } from '../../src/daemon/clock.js';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that moves only when a test advances it; timers fire in time order, with promises settled between. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<ClockTimer, Pending>();

  constructor(start: Date | number) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const handle = {};
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return handle;
  }

  clearTimeout(timer: ClockTimer): void {
    this.#timers.delete(timer);
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#earliest();
      if (next === undefined || next[1].at > target) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = target;
    await settle();
  }

  /** Sets the wall clock without firing anything, as a suspend/resume or an NTP step does. */
  jump(ms: number): void {
    this.#now += ms;
  }

  pendingTimers(): number {
    return this.#timers.size;
  }

  #earliest(): [ClockTimer, Pending] | undefined {
    let best: [ClockTimer, Pending] | undefined;
    for (const entry of this.#timers) {
      if (best === undefined || entry[1].at < best[1].at || (entry[1].at === best[1].at && entry[1].seq < best[1].seq)) best = entry;
    }
    return best;
  }
}

/** Lets pending promise callbacks run (a few event-loop turns, so chains of awaits finish). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
