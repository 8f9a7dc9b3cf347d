/**
 * SimplePollingSource: an input that asks for one item every interval.
 *
 * @module
 */
import {
  EOF,
  type FixedPartitionedSource,
  type PartitionContext,
  type StatefulSourcePartition,
} from "./inputs.ts";
import { isPromiseLike } from "../promise_like.ts";

/**
 * Thrown from `SimplePollingSource.nextItem` to poll again sooner than the interval: that
 * poll yields nothing and the next one happens `timeoutMs` later.
 *
 * @example
 * ```ts
 * import { PollRetry } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new PollRetry(5_000).timeoutMs, 5_000);
 * ```
 */
export class PollRetry extends Error {
  /**
   * Asks for the next poll after `timeoutMs` instead of the interval.
   *
   * @param timeoutMs How long until the next poll, in ms.
   * @throws {RangeError} If `timeoutMs` is negative or NaN.
   */
  constructor(readonly timeoutMs: number) {
    super(`Retry polling in ${timeoutMs} ms`);
    this.name = "PollRetry";
    if (!(timeoutMs >= 0)) throw new RangeError(`Retry needs a timeout >= 0 ms, got ${timeoutMs}`);
  }
}

/** Options of {@linkcode SimplePollingSource}. */
export interface SimplePollingOptions {
  /**
   * Align polls to `alignTo + n × interval` (epoch ms or Date): the first poll waits for the
   * next such boundary (immediately when exactly on one). Default: poll at once.
   */
  readonly alignTo?: number | Date;
}

/**
 * An input that calls {@linkcode SimplePollingSource.nextItem} once per interval — for
 * polling an API, a file's size, a gauge. One partition, `"singleton"`, read by one worker.
 * Like Bytewax's `SimplePollingSource`:
 *
 * 1. The first poll happens at once, or at the next `alignTo + n × interval` boundary.
 * 2. Each poll's item (if not `undefined`) is emitted; `EOF` ends the input; throwing
 *    `SimplePollingSource.Retry` (a {@linkcode PollRetry}) polls again after its timeout.
 * 3. Override `snapshot()` and `resume(state)` to carry a position across restarts.
 *
 * Time comes from the run's clock, so tests use a `TestClock`.
 *
 * @typeParam T The items.
 * @typeParam S The snapshot (resume state).
 *
 * @example Polling a counter every second
 * ```ts
 * import { Dataflow, EOF, SimplePollingSource } from "@weir/weir";
 * import { runMain, TestClock, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * class Counter extends SimplePollingSource<number> {
 *   n = 0;
 *   nextItem() {
 *     return this.n < 3 ? this.n++ : EOF;
 *   }
 * }
 * const out: number[] = [];
 * const clock = new TestClock({ start: 0 });
 * const flow = new Dataflow("poll");
 * flow.input("counter", new Counter(1_000)).output("out", new TestingSink(out));
 * await runMain(flow, { clock });
 * assertEquals(out, [0, 1, 2]);
 * assertEquals(clock.now(), 3_000);
 * ```
 */
export abstract class SimplePollingSource<T, S = undefined>
  implements FixedPartitionedSource<T, S | undefined> {
  /** Throw `new SimplePollingSource.Retry(ms)` from `nextItem` to poll again sooner. */
  static readonly Retry: typeof PollRetry = PollRetry;

  /** The polling interval in ms. */
  readonly interval: number;
  /** The alignment origin in epoch ms, if any. */
  readonly alignTo: number | undefined;

  /**
   * Polls every `interval` ms, aligned to `options.alignTo` if given.
   *
   * @param interval Milliseconds between polls (≥ 0).
   * @param options Alignment.
   */
  constructor(interval: number, options: SimplePollingOptions = {}) {
    if (!(interval >= 0)) throw new RangeError(`interval must be >= 0 ms, got ${interval}`);
    this.interval = interval;
    const a = options.alignTo;
    this.alignTo = a === undefined ? undefined : typeof a === "number" ? a : a.getTime();
  }

  /**
   * Returns the next item, `undefined` for "nothing this time", or `EOF` to end the input.
   * May return a Promise; throw `SimplePollingSource.Retry` to retry sooner.
   */
  abstract nextItem(): T | undefined | EOF | Promise<T | undefined | EOF>;

  /** The position to store at epoch ends (default `undefined`: nothing to resume). */
  snapshot(): S | undefined {
    return undefined;
  }

  /** Restores the position from a snapshot when the run resumes. */
  resume(_state: S): void {}

  /** One partition. */
  listParts(): string[] {
    return ["singleton"];
  }

  /** Builds the poller, resuming from `resumeState` when given. */
  buildPart(
    _stepId: string,
    _forPart: string,
    resumeState: S | undefined,
    ctx: PartitionContext,
  ): StatefulSourcePartition<T, S | undefined> {
    if (resumeState !== undefined) this.resume(resumeState);
    return new PollingPartition(this, ctx);
  }
}

class PollingPartition<T, S> implements StatefulSourcePartition<T, S | undefined> {
  #awake: number;

  constructor(
    private readonly source: SimplePollingSource<T, S>,
    private readonly ctx: PartitionContext,
  ) {
    const now = ctx.clock.now();
    const { alignTo, interval } = source;
    // The first boundary alignTo + n × interval at or after now (n may be negative).
    this.#awake = alignTo === undefined || interval === 0
      ? now
      : alignTo + Math.ceil((now - alignTo) / interval) * interval;
  }

  nextBatch(): T[] | EOF | Promise<T[] | EOF> {
    const scheduled = this.#awake;
    let item;
    try {
      item = this.source.nextItem();
    } catch (err) {
      return this.#failed(err);
    }
    if (isPromiseLike<T | undefined | EOF>(item)) {
      return Promise.resolve(item).then(
        (v) => this.#got(v, scheduled),
        (err) => this.#failed(err),
      );
    }
    return this.#got(item, scheduled);
  }

  #got(item: T | undefined | EOF, scheduled: number): T[] | EOF {
    if (item === EOF) return EOF;
    this.#awake = scheduled + this.source.interval;
    const now = this.ctx.clock.now();
    if (this.#awake < now && this.source.interval > 0) {
      // Fell behind (a slow poll): skip missed slots, stay on the grid.
      const missed = Math.ceil((now - this.#awake) / this.source.interval);
      this.#awake += missed * this.source.interval;
    }
    return item === undefined ? [] : [item];
  }

  #failed(err: unknown): T[] {
    if (err instanceof PollRetry) {
      this.#awake = this.ctx.clock.now() + err.timeoutMs;
      return [];
    }
    throw err;
  }

  nextAwake(): number {
    return this.#awake;
  }

  snapshot(): S | undefined {
    return this.source.snapshot();
  }
}
