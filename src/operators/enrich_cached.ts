/**
 * enrichCached: enriches items from a lookup through a per-worker TTL cache.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { chainStep, checkFunction } from "./_chain.ts";

/**
 * A cache in front of a lookup function: `get(key)` calls the getter on a miss or when the
 * cached value is older than `ttl` milliseconds.
 *
 * @typeParam K The lookup key.
 * @typeParam V The looked-up value.
 *
 * @example
 * ```ts
 * import { TTLCache } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * let now = 0;
 * let calls = 0;
 * const cache = new TTLCache((k: string) => (calls++, k.length), () => now, 60_000);
 * assertEquals(cache.get("abc"), 3);
 * assertEquals(cache.get("abc"), 3);
 * assertEquals(calls, 1);
 * now = 120_000;
 * cache.get("abc");
 * assertEquals(calls, 2);
 * ```
 */
export class TTLCache<K, V> {
  readonly #entries = new Map<K, { value: V; at: number }>();

  /**
   * An empty cache that fills itself through `getter`.
   *
   * @param getter Looks a key up.
   * @param now The current time in ms.
   * @param ttl How long a value stays fresh, in ms (default forever).
   */
  constructor(
    private readonly getter: (key: K) => V,
    private readonly now: () => number,
    private readonly ttl: number = Number.POSITIVE_INFINITY,
  ) {
    if (!(ttl >= 0)) throw new RangeError(`ttl must be >= 0 ms, got ${ttl}`);
  }

  /** The cached value for `key`, looked up again when missing or stale. */
  get(key: K): V {
    const now = this.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && now - hit.at < this.ttl) return hit.value;
    const value = this.getter(key);
    this.#entries.set(key, { value, at: now });
    return value;
  }

  /** Evicts `key`. */
  remove(key: K): void {
    this.#entries.delete(key);
  }
}

/** Options of {@linkcode enrichCached}. */
export interface EnrichCachedOptions {
  /** How long a looked-up value stays fresh, in ms of the run's clock (default forever). */
  readonly ttl?: number;
}

/**
 * Emits `mapper(cache, item)` for each item, where `cache.get(key)` returns `getter(key)`
 * through a per-worker {@linkcode TTLCache}. "Now" is the activation's time from the run's
 * clock, so TTLs are testable with a `TestClock`. The cache is not snapshotted: after a
 * resume it starts empty. Like Bytewax's `enrich_cached`.
 *
 * @param stepId The step's name.
 * @param getter Looks a key up (synchronously; use `mapAsync` for remote lookups).
 * @param mapper Combines the cache and the item.
 * @param options The TTL.
 *
 * @example Joining a static table
 * ```ts
 * import { Dataflow, enrichCached } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const prices: Record<string, number> = { a: 1, b: 2 };
 * const out: number[] = [];
 * const flow = new Dataflow("enrich_demo");
 * flow.input("inp", new TestingSource(["a", "b", "a"]))
 *   .pipe(enrichCached("price", (k: string) => prices[k]!, (cache, item: string) => cache.get(item)))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [1, 2, 1]);
 * ```
 */
export function enrichCached<T, K, V, U>(
  stepId: string,
  getter: (key: K) => V,
  mapper: (cache: TTLCache<K, V>, item: T) => U,
  options: EnrichCachedOptions = {},
): WeirOperator<T, U> {
  checkFunction("enrichCached", stepId, "a getter", getter);
  checkFunction("enrichCached", stepId, "a mapper", mapper);
  const ttl = options.ttl ?? Number.POSITIVE_INFINITY;
  if (!(ttl >= 0)) throw new RangeError(`enrichCached("${stepId}") needs ttl >= 0 ms, got ${ttl}`);
  return chainStep<T, U>("enrichCached", stepId, (ctx, down) => {
    const cache = new TTLCache<K, V>(getter, ctx.now, ttl);
    return (item) => down.next(mapper(cache, item));
  });
}
