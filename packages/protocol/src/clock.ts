/**
 * Time is injected so back-off, leases and the 24-hour expiry are tested in milliseconds.
 * `setTimer` is the only way hub code waits; a manual clock fires timers when advanced.
 */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2_147_000_000)));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock for tests: time moves only when `advance` is called, and due timers fire then. */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Set<{ at: number; fn: () => void }>();
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  setTimer(ms: number, fn: () => void): { cancel(): void } {
    const t = { at: this.#now + Math.max(0, ms), fn };
    this.#timers.add(t);
    return { cancel: () => void this.#timers.delete(t) };
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers.delete(due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
  }
}
