/**
 * Helpers that turn iterables, getters and async iterables into batches, for writing source
 * partitions.
 *
 * @module
 */
import { type Clock, WallClock } from "../clock.ts";
import { EOF } from "./inputs.ts";

/**
 * Splits `items` into arrays of at most `size` items, lazily.
 *
 * @example
 * ```ts
 * import { batch } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals([...batch([0, 1, 2, 3, 4], 3)], [[0, 1, 2], [3, 4]]);
 * ```
 */
export function* batch<T>(items: Iterable<T>, size: number): Generator<T[], void, undefined> {
  checkSize(size);
  let buf: T[] = [];
  for (const item of items) {
    buf.push(item);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length > 0) yield buf;
}

/** Returned by a {@linkcode batchGetter} getter when no item is available right now. */
export const NO_ITEM: unique symbol = Symbol("weir.noItem");
/** The type of {@linkcode NO_ITEM}. */
export type NO_ITEM = typeof NO_ITEM;

/**
 * Builds a `nextBatch` function from a getter that returns one item, {@linkcode NO_ITEM}
 * when none is available now, or `EOF` when there will be no more. Each call collects items
 * until `size` or `NO_ITEM` (returning a partial batch, possibly `[]`); once the getter said
 * `EOF` and everything was returned, every call returns `EOF`.
 *
 * @example Draining a queue
 * ```ts
 * import { batchGetter, EOF, NO_ITEM } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const queue = [0, 1, 2, 3, 4];
 * let closed = false;
 * const next = batchGetter(() => queue.length > 0 ? queue.shift()! : closed ? EOF : NO_ITEM, 3);
 * assertEquals(next(), [0, 1, 2]);
 * assertEquals(next(), [3, 4]);
 * assertEquals(next(), []);
 * queue.push(5);
 * closed = true;
 * assertEquals(next(), [5]);
 * assertEquals(next(), EOF);
 * assertEquals(next(), EOF);
 * ```
 */
export function batchGetter<T>(
  getter: () => T | NO_ITEM | EOF,
  size: number,
): () => T[] | EOF {
  checkSize(size);
  let ended = false;
  return () => {
    if (ended) return EOF;
    const out: T[] = [];
    while (out.length < size) {
      const item = getter();
      if (item === NO_ITEM) break;
      if (item === EOF) {
        ended = true;
        return out.length > 0 ? out : EOF;
      }
      out.push(item);
    }
    return out;
  };
}

/** Options of {@linkcode batchAsync}. */
export interface BatchAsyncOptions {
  /** How long one call may wait for items, in ms of `clock`. */
  readonly timeoutMs: number;
  /** Items per batch at most. */
  readonly maxSize: number;
  /** The clock for the timeout (default: the wall clock); pass the partition's clock. */
  readonly clock?: Clock;
}

/**
 * Builds a `nextBatch` function over an async iterable: each call gathers items until
 * `maxSize` or until `timeoutMs` passed, and resolves with what it has (possibly `[]`); after
 * the iterable ends every call resolves `EOF`. An item requested before a timeout is not lost:
 * the pending request carries over to the next call.
 *
 * @example
 * ```ts
 * import { batchAsync, EOF } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * async function* numbers() {
 *   for (let i = 0; i < 5; i++) yield i;
 * }
 * const next = batchAsync(numbers(), { timeoutMs: 1_000, maxSize: 2 });
 * assertEquals(await next(), [0, 1]);
 * assertEquals(await next(), [2, 3]);
 * assertEquals(await next(), [4]);
 * assertEquals(await next(), EOF);
 * ```
 */
export function batchAsync<T>(
  source: AsyncIterable<T>,
  options: BatchAsyncOptions,
): () => Promise<T[] | EOF> {
  const { timeoutMs, maxSize } = options;
  checkSize(maxSize);
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
  const clock = options.clock ?? new WallClock();
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let ended = false;
  return async () => {
    if (ended) return EOF;
    const out: T[] = [];
    const ac = new AbortController();
    const timedOut = clock.sleepUntil(clock.now() + timeoutMs, ac.signal).then((): typeof TIMEOUT =>
      TIMEOUT
    );
    try {
      while (out.length < maxSize) {
        pending ??= it.next();
        const r = await Promise.race([pending, timedOut]);
        if (r === TIMEOUT) break;
        pending = undefined;
        if (r.done) {
          ended = true;
          break;
        }
        out.push(r.value);
      }
    } finally {
      ac.abort();
    }
    return out.length === 0 && ended ? EOF : out;
  };
}

const TIMEOUT: unique symbol = Symbol("timeout");

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Batch size must be a positive integer, got ${size}`);
  }
}
