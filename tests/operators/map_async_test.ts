// mapAsync: order, bounded concurrency, failures, EOF, chaining and backpressure. Calls are
// settled by the tests themselves (deferreds and microtasks) wherever possible; the few
// timers are a few milliseconds of wall clock.
import {
  assertEquals,
  assertGreaterOrEqual,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { map } from "rxjs";
import {
  Dataflow,
  DataflowError,
  EOF,
  type FixedPartitionedSource,
  flatMapBatch,
  keyOn,
  mapAsync,
} from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolve function. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

Deno.test("mapAsync emits in input order though later items resolve first", async () => {
  const calls: { x: number; resolve: (v: number) => void }[] = [];
  const resolved: number[] = [];
  const out = await through([1, 2, 3, 4], [
    mapAsync("slow", (x: number) => {
      const d = deferred<number>();
      calls.push({ x, resolve: d.resolve });
      if (calls.length === 4) {
        // All four are in flight: settle them last to first.
        for (const c of [...calls].reverse()) {
          resolved.push(c.x);
          c.resolve(c.x * 10);
        }
      }
      return d.promise;
    }, { concurrency: 4 }),
  ], { batchSize: 4 });
  assertEquals(resolved, [4, 3, 2, 1]);
  assertEquals(out, [10, 20, 30, 40]);
});

Deno.test("mapAsync emits in input order with uneven delays", async () => {
  const out = await through([1, 2, 3, 4], [
    mapAsync("slow", async (x: number) => {
      await sleep(10 - 2 * x);
      return x * 10;
    }, { concurrency: 4 }),
  ], { batchSize: 4 });
  assertEquals(out, [10, 20, 30, 40]);
});

Deno.test("mapAsync keeps at most `concurrency` calls in flight", async () => {
  let inFlight = 0;
  let max = 0;
  const items = Array.from({ length: 20 }, (_, i) => i);
  const out = await through(items, [
    mapAsync("bounded", async (x: number) => {
      max = Math.max(max, ++inFlight);
      await sleep(1);
      inFlight--;
      return x;
    }, { concurrency: 3 }),
  ], { batchSize: 20 });
  assertEquals(out, items);
  assertEquals(max, 3);
  assertEquals(inFlight, 0);
});

Deno.test("mapAsync with concurrency 1 runs calls one after another", async () => {
  const log: string[] = [];
  const out = await through([1, 2, 3], [
    mapAsync("serial", async (x: number) => {
      log.push(`start${x}`);
      await Promise.resolve();
      log.push(`end${x}`);
      return -x;
    }, { concurrency: 1 }),
  ], { batchSize: 3 });
  assertEquals(out, [-1, -2, -3]);
  assertEquals(log, ["start1", "end1", "start2", "end2", "start3", "end3"]);
});

Deno.test("mapAsync: empty input, one item, and plain (non-promise) results", async () => {
  assertEquals(await through([], [mapAsync("empty", (x: number) => x)]), []);
  assertEquals(await through(["a"], [mapAsync("one", (s: string) => Promise.resolve(s + "!"))]), [
    "a!",
  ]);
  assertEquals(await through([1, 2], [mapAsync("sync", (x: number) => x + 1)]), [2, 3]);
});

Deno.test("mapAsync: many items through a small window keep their order", async () => {
  const items = Array.from({ length: 2000 }, (_, i) => i);
  const out = await through(items, [
    mapAsync("many", async (x: number) => {
      if (x % 7 === 0) await Promise.resolve();
      return x * 2;
    }, { concurrency: 5 }),
  ], { batchSize: 50 });
  assertEquals(out, items.map((x) => x * 2));
});

Deno.test("mapAsync: a rejected call fails the run naming the step, with the cause", async () => {
  const boom = new Error("lookup failed");
  const started: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3]))
    .pipe(mapAsync("lookup", async (x: number) => {
      started.push(x);
      await Promise.resolve();
      if (x === 2) throw boom;
      return x;
    }, { concurrency: 1 }))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.lookup" failed: lookup failed',
  );
  assertEquals([err.stepId, err.key], ["test_df.lookup", undefined]);
  assertStrictEquals(err.cause, boom);
  // The run stopped at the failure: the item behind it was never started.
  assertEquals(started, [1, 2]);
});

Deno.test("mapAsync: a synchronous throw fails the run too", async () => {
  const boom = new TypeError("sync boom");
  const err = await assertRejects(
    () =>
      through([1], [mapAsync("sync", (): number => {
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.sync" failed: sync boom',
  );
  assertEquals(err.stepId, "test_df.sync");
  assertStrictEquals(err.cause, boom);
});

Deno.test("mapAsync: EOF waits for the calls in flight", async () => {
  const out = await through([1, 2], [mapAsync("late", async (x: number) => {
    await sleep(x === 2 ? 30 : 0);
    return x;
  })]);
  assertEquals(out, [1, 2]);
});

Deno.test("mapAsync: EOF waits for a last call settled from outside", async () => {
  const last = deferred<string>();
  const out: string[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a", "b"]))
    .pipe(mapAsync("late", (s: string) => (s === "b" ? last.promise : s)))
    .output("out", new TestingSink(out));
  const running = runMain(flow);
  await sleep(5);
  assertEquals(out, ["a"]);
  last.resolve("B");
  assertEquals(await running, { status: "eof", epoch: 1 });
  assertEquals(out, ["a", "B"]);
});

Deno.test("mapAsync followed by flatMapBatch, and by another mapAsync", async () => {
  const out = await through([1, 2, 3, 4, 5], [
    mapAsync("a", async (x: number) => {
      await Promise.resolve();
      return x * 2;
    }),
    mapAsync("b", async (x: number) => {
      await sleep(6 - x / 2);
      return x + 1;
    }, { concurrency: 2 }),
    flatMapBatch("batches", (b: number[]) => b),
  ], { batchSize: 2 });
  assertEquals(out, [3, 5, 7, 9, 11]);
});

Deno.test("mapAsync between per-item steps keeps per-key order", async () => {
  const out = await through(["a1", "b1", "a2", "b2", "a3"], [
    keyOn("key", (s: string) => s[0]!),
    mapAsync("fetch", async ([k, v]: [string, string]) => {
      await sleep(v.endsWith("1") ? 8 : 1);
      return [k, v.toUpperCase()] as [string, string];
    }, { concurrency: 5 }),
    map(([, v]: [string, string]) => v),
  ], { batchSize: 5 });
  assertEquals(out, ["A1", "B1", "A2", "B2", "A3"]);
});

/**
 * A one-partition source of `n` numbers that records, each time it hands out an item, how
 * many items it has handed out that `stats.done` does not count yet.
 */
function countingSource(n: number) {
  const stats = { pulled: 0, done: 0, maxAhead: 0 };
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => {
      let i = 0;
      return {
        nextBatch: () => {
          if (i >= n) return EOF;
          stats.pulled++;
          stats.maxAhead = Math.max(stats.maxAhead, stats.pulled - stats.done);
          return [i++];
        },
        snapshot: () => i,
      };
    },
  };
  return { source, stats };
}

/** Runs 200 items through a slow mapAsync; returns how far reading ran ahead of completion. */
async function readAhead(options: { concurrency: number; maxBuffered?: number }) {
  const { source, stats } = countingSource(200);
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", source)
    .pipe(mapAsync("slow", async (x: number) => {
      await Promise.resolve();
      await Promise.resolve();
      return x;
    }, options))
    .pipe(map((x: number) => (stats.done++, x)))
    .output("out", new TestingSink(out));
  await runMain(flow);
  return { out, stats };
}

Deno.test("mapAsync: maxBuffered bounds how far inputs are read ahead", async () => {
  const { out, stats } = await readAhead({ concurrency: 2, maxBuffered: 8 });
  assertEquals(out, Array.from({ length: 200 }, (_, i) => i));
  assertEquals(stats.pulled, 200);
  // The source is read until 8 items wait in the step, then paused until some are emitted.
  assertEquals(stats.maxAhead, 8);
});

Deno.test("mapAsync: with the default maxBuffered, reading runs further ahead", async () => {
  // The control for the test above: the default bound, max(64, 4 × concurrency), lets more in.
  const { out, stats } = await readAhead({ concurrency: 2 });
  assertEquals(out.length, 200);
  assertGreaterOrEqual(stats.maxAhead, 32);
  assertLessOrEqual(stats.maxAhead, 64);
});

Deno.test("mapAsync validates its arguments at definition time", () => {
  assertThrows(
    () => mapAsync("a", (x) => x, { concurrency: 0 }),
    RangeError,
    'mapAsync("a") needs a positive integer concurrency, got 0',
  );
  assertThrows(
    () => mapAsync("a", (x) => x, { maxBuffered: 1.5 }),
    RangeError,
    'mapAsync("a") needs a positive integer maxBuffered, got 1.5',
  );
  assertThrows(
    () => mapAsync("a", "f" as never),
    TypeError,
    'mapAsync("a") needs a mapper function, got a string',
  );
  assertThrows(() => mapAsync("a.b", (x) => x), RangeError, `Step id "a.b" can't contain a period`);
});
