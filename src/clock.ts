/**
 * The source of time for a run.
 *
 * Only the scheduler and connectors read the clock; operators receive "now" from the
 * scheduler once per activation. Times are epoch milliseconds.
 *
 * @module
 */

/**
 * A source of time. The scheduler samples {@linkcode Clock.now} once per activation and sleeps
 * through {@linkcode Clock.sleepUntil} when nothing is ready, so replacing the clock (see
 * `TestClock` in `@weir/weir/testing`) makes every time-based behaviour testable without
 * waiting.
 */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /**
   * Resolves once `now() >= at`, or as soon as `signal` aborts (never rejects). The scheduler
   * aborts the signal when something else wakes it first.
   */
  sleepUntil(at: number, signal: AbortSignal): Promise<void>;
}

/**
 * The wall clock: `Date.now()` and `setTimeout`. The default for `run`. (Not to be confused
 * with the windowing `SystemClock`, which assigns processing-time timestamps to items.)
 *
 * @example
 * ```ts
 * import { WallClock } from "@weir/weir";
 * import { assert } from "@std/assert";
 *
 * const clock = new WallClock();
 * const before = clock.now();
 * await clock.sleepUntil(before + 2, new AbortController().signal);
 * assert(clock.now() >= before + 2);
 * ```
 */
export class WallClock implements Clock {
  /** Returns `Date.now()`. */
  now(): number {
    return Date.now();
  }

  /** Sleeps with `setTimeout` until `at`, or until `signal` aborts. */
  sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    const delay = at - Date.now();
    if (delay <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      // Date.now() has millisecond resolution; +1 avoids waking just before `at`.
      const timer = setTimeout(done, delay + 1);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Normalizes a timestamp given as epoch ms or a Date to epoch ms. */
export function toEpochMs(t: number | Date): number {
  return typeof t === "number" ? t : t.getTime();
}
