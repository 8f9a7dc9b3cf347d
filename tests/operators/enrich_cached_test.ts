// enrichCached and TTLCache: Bytewax's test_enrich_cached.py (fake clock, then a flow on a
// TestClock) plus TTL edges, errors and validation.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { Dataflow, DataflowError, enrichCached, TTLCache } from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

Deno.test("TTLCache: get looks up once (Bytewax's case)", () => {
  const now = 0;
  const cache = new TTLCache(
    (k: string) => ({ a: 1 } as Record<string, number>)[k]!,
    () => now,
    60_000,
  );
  assertEquals(cache.get("a"), 1);
});

Deno.test("TTLCache: a second get within the TTL is served from the cache (Bytewax's case)", () => {
  const now = 0;
  const source: Record<string, number> = { a: 1 };
  // Like Bytewax's getter that removes the entry: a second lookup would fail.
  const getter = (k: string) => {
    const v = source[k];
    delete source[k];
    if (v === undefined) throw new Error(`missing ${k}`);
    return v;
  };
  const cache = new TTLCache(getter, () => now, 60_000);
  assertEquals(cache.get("a"), 1);
  assertEquals(cache.get("a"), 1);
});

Deno.test("TTLCache: after the TTL passed, the changed source is seen (Bytewax's case)", () => {
  let now = 0;
  const source: Record<string, number> = { a: 1 };
  let calls = 0;
  const cache = new TTLCache((k: string) => (calls++, source[k]!), () => now, 60_000);
  assertEquals(cache.get("a"), 1);
  source.a = 3;
  now += 30_000;
  assertEquals(cache.get("a"), 1);
  now += 90_000; // two minutes after the first lookup
  assertEquals(cache.get("a"), 3);
  assertEquals(calls, 2);
});

Deno.test("TTLCache: a value is stale exactly at its TTL; the refresh restarts the TTL", () => {
  let now = 0;
  let calls = 0;
  const cache = new TTLCache((_k: string) => ++calls, () => now, 1_000);
  assertEquals(cache.get("k"), 1);
  now = 999;
  assertEquals(cache.get("k"), 1);
  now = 1_000;
  assertEquals(cache.get("k"), 2);
  now = 1_999;
  assertEquals(cache.get("k"), 2);
  now = 2_000;
  assertEquals(cache.get("k"), 3);
});

Deno.test("TTLCache: keys are cached separately; remove evicts one key", () => {
  const calls: string[] = [];
  const cache = new TTLCache((k: string) => (calls.push(k), k.toUpperCase()), () => 0);
  assertEquals([cache.get("a"), cache.get("b"), cache.get("a")], ["A", "B", "A"]);
  cache.remove("a");
  cache.remove("missing");
  assertEquals([cache.get("a"), cache.get("b")], ["A", "B"]);
  assertEquals(calls, ["a", "b", "a"]);
});

Deno.test("TTLCache: the default TTL is forever; ttl 0 looks up every time", () => {
  let now = 0;
  let calls = 0;
  const forever = new TTLCache((_k: string) => ++calls, () => now);
  forever.get("k");
  now = Number.MAX_SAFE_INTEGER;
  assertEquals(forever.get("k"), 1);
  let zeroCalls = 0;
  const never = new TTLCache((_k: string) => ++zeroCalls, () => 0, 0);
  assertEquals([never.get("k"), never.get("k")], [1, 2]);
});

Deno.test("TTLCache: a negative or NaN ttl is refused", () => {
  assertThrows(
    () => new TTLCache((k) => k, () => 0, -1),
    RangeError,
    "ttl must be >= 0 ms, got -1",
  );
  assertThrows(
    () => new TTLCache((k) => k, () => 0, Number.NaN),
    RangeError,
    "ttl must be >= 0 ms, got NaN",
  );
});

Deno.test("enrichCached looks up through the cache (Bytewax's case)", async () => {
  const table: Record<string, number> = { a: 1, b: 2 };
  const lookups: string[] = [];
  const out = await through(["a", "b", "a"], [
    enrichCached(
      "enrich",
      (k: string) => (lookups.push(k), table[k]!),
      (cache, item: string) => cache.get(item),
    ),
  ]);
  assertEquals(out, [1, 2, 1]);
  assertEquals(lookups, ["a", "b"]);
});

Deno.test("enrichCached: the TTL follows the run's TestClock", async () => {
  let version = 1;
  const out = await through(
    ["k", TestingSource.PAUSE(30_000), "k", TestingSource.PAUSE(40_000), "k"],
    [enrichCached("enrich", () => version++, (cache, item: string) => cache.get(item), {
      ttl: 60_000,
    })],
    { clock: new TestClock({ start: 0 }) },
  );
  // Read at t=0 (lookup), t=30 000 (cached), t=70 000 (stale: looked up again).
  assertEquals(out, [1, 1, 2]);
});

Deno.test("enrichCached: the mapper combines cache and item", async () => {
  const prices: Record<string, number> = { apple: 2, pear: 3 };
  const out = await through([["apple", 4], ["pear", 1]], [
    enrichCached(
      "price",
      (k: string) => prices[k]!,
      (cache, [fruit, n]: [string, number]) => ({ fruit, total: cache.get(fruit) * n }),
    ),
  ]);
  assertEquals(out, [{ fruit: "apple", total: 8 }, { fruit: "pear", total: 3 }]);
});

Deno.test("enrichCached: empty input never looks up", async () => {
  let calls = 0;
  assertEquals(
    await through([], [enrichCached("e", (k: string) => (calls++, k), (c, i: string) => c.get(i))]),
    [],
  );
  assertEquals(calls, 0);
});

Deno.test("enrichCached: every run starts with an empty cache", async () => {
  let calls = 0;
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a", "a"]))
    .pipe(enrichCached("e", () => ++calls, (cache, item: string) => cache.get(item)))
    .output("out", new TestingSink(out));
  await runMain(flow);
  await runMain(flow);
  assertEquals(out, [1, 1, 2, 2]);
});

Deno.test("enrichCached: a throwing getter or mapper fails the run with the cause", async () => {
  const boom = new Error("lookup down");
  const err = await assertRejects(
    () =>
      through(["a"], [enrichCached("e", (): number => {
        throw boom;
      }, (cache, item: string) => cache.get(item))]),
    DataflowError,
    'Step "test_df.e" failed: lookup down',
  );
  assertEquals(err.stepId, "test_df.e");
  assertStrictEquals(err.cause, boom);
  const inMapper = await assertRejects(
    () =>
      through(["a"], [enrichCached("e", (k: string) => k, () => {
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.e" failed: lookup down',
  );
  assertStrictEquals(inMapper.cause, boom);
});

Deno.test("enrichCached validates its arguments at definition time", () => {
  const get = (k: string) => k;
  const map = (c: TTLCache<string, string>, i: string) => c.get(i);
  assertThrows(
    () => enrichCached("e", get, map, { ttl: -5 }),
    RangeError,
    'enrichCached("e") needs ttl >= 0 ms, got -5',
  );
  assertThrows(
    () => enrichCached("e", 1 as never, map),
    TypeError,
    'enrichCached("e") needs a getter function, got a number',
  );
  assertThrows(
    () => enrichCached("e", get, null as never),
    TypeError,
    'enrichCached("e") needs a mapper function, got null',
  );
});
