/**
 * A controllable clock for tests.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { macrotask } from "../runtime/util.ts";

/** Options of {@linkcode TestClock}. */
export interface TestClockOptions {
  /** The starting time, in epoch ms or as a Date (default 0). */
  readonly start?: number | Date;
  /**
   * When true (the default), a sleeper is woken by jumping the clock to its deadline, so a
   * run whose scheduler waits — on a PAUSE, a timer, an epoch end — proceeds at once in
   * virtual time. When false, time moves only through {@linkcode TestClock.advance} and
   * {@linkcode TestClock.set}.
   */
  readonly autoAdvance?: boolean;
}

/**
 * A clock whose time moves only when told to, or when the run would otherwise wait.
 *
 * Every time-based part of weir takes its time from the run's clock, so passing a TestClock
 * to `run`/`runMain` makes epochs, PAUSE markers, timers and TTLs deterministic and instant.
 *
 * @example Manual time
 * ```ts
 * import { TestClock } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new TestClock({ start: 1_000, autoAdvance: false });
 * const woke = clock.sleepUntil(1_500, new AbortController().signal).then(() => clock.now());
 * clock.advance(500);
 * assertEquals(await woke, 1_500);
 * ```
 */
export class TestClock implements Clock {
  #now: number;
  readonly #autoAdvance: boolean;
  #sleepers: Array<{ at: number; resolve: () => void }> = [];
  #jumpScheduled = false;

  /**
   * A clock that starts at `options.start` (default 0) and jumps to each sleeper's deadline
   * (or, with `autoAdvance: false`, moves only when told to).
   *
   * @param options Start time and auto-advance.
   */
  constructor(options: TestClockOptions = {}) {
    const start = options.start ?? 0;
    this.#now = typeof start === "number" ? start : start.getTime();
    this.#autoAdvance = options.autoAdvance ?? true;
  }

  /** The current virtual time (epoch ms). */
  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` and wakes the sleepers whose deadline passed. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Can't advance a TestClock by ${ms} ms`);
    this.set(this.#now + ms);
  }

  /** Sets the time (it may not go backwards) and wakes the sleepers whose deadline passed. */
  set(time: number | Date): void {
    const t = typeof time === "number" ? time : time.getTime();
    if (t < this.#now) {
      throw new RangeError(`A TestClock can't go backwards (from ${this.#now} to ${t})`);
    }
    this.#now = t;
    const due = this.#sleepers.filter((s) => s.at <= t);
    this.#sleepers = this.#sleepers.filter((s) => s.at > t);
    // Earliest deadline first; the sort is stable, so equal deadlines keep their order.
    due.sort((a, b) => a.at - b.at);
    for (const s of due) s.resolve();
  }

  /**
   * Resolves once the virtual time reaches `at`, or when `signal` aborts. With auto-advance,
   * after one event-loop turn the clock jumps to the earliest pending deadline, so concurrent
   * sleepers wake one after the other in deadline order, each at its own time.
   */
  sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    if (at <= this.#now || signal.aborted) return Promise.resolve();
    if (this.#autoAdvance) this.#scheduleJump();
    return new Promise((resolve) => {
      const entry = { at, resolve: () => finish() };
      const finish = () => {
        signal.removeEventListener("abort", finish);
        this.#sleepers = this.#sleepers.filter((s) => s !== entry);
        resolve();
      };
      this.#sleepers.push(entry);
      signal.addEventListener("abort", finish, { once: true });
    });
  }

  /**
   * Auto-advance: after an event-loop turn, jumps to the earliest pending deadline. One jump at
   * a time, so the sleepers a jump wakes run (and may sleep again) before the next jump.
   */
  #scheduleJump(): void {
    if (this.#jumpScheduled) return;
    this.#jumpScheduled = true;
    void macrotask().then(() => {
      this.#jumpScheduled = false;
      let next = Number.POSITIVE_INFINITY;
      for (const s of this.#sleepers) if (s.at < next) next = s.at;
      if (next === Number.POSITIVE_INFINITY) return;
      if (next > this.#now) this.set(next);
      if (this.#sleepers.length > 0) this.#scheduleJump();
    });
  }
}
