import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import {
  Dataflow,
  DataflowError,
  EOF,
  type FixedPartitionedSource,
  flatMapBatch,
  mapAsync,
} from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("mapAsync emits in input order though later items resolve first", async () => {
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
  const out = await through(Array.from({ length: 20 }, (_, i) => i), [
    mapAsync("bounded", async (x: number) => {
      max = Math.max(max, ++inFlight);
      await sleep(2);
      inFlight--;
      return x;
    }, { concurrency: 3 }),
  ], { batchSize: 20 });
  assertEquals(out, Array.from({ length: 20 }, (_, i) => i));
  assertEquals(max, 3);
});

Deno.test("mapAsync: a rejection fails the run naming the step, with the cause", async () => {
  const boom = new Error("lookup failed");
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3]))
    .pipe(mapAsync("lookup", async (x: number) => {
      await sleep(1);
      if (x === 2) throw boom;
      return x;
    }))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.lookup" failed: lookup failed',
  );
  assertStrictEquals(err.cause, boom);
});

Deno.test("mapAsync: a synchronous throw fails the run too", async () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1]))
    .pipe(mapAsync("sync", (): number => {
      throw new TypeError("sync boom");
    }))
    .output("out", new TestingSink([]));
  await assertRejects(() => runMain(flow), DataflowError, 'Step "test_df.sync" failed: sync boom');
});

Deno.test("mapAsync: EOF waits for the last call; plain values work too", async () => {
  assertEquals(
    await through([1, 2], [mapAsync("late", async (x: number) => {
      await sleep(x === 2 ? 30 : 1);
      return x;
    })]),
    [1, 2],
  );
  assertEquals(await through([1, 2], [mapAsync("sync", (x: number) => x + 1)]), [2, 3]);
  assertEquals(await through([], [mapAsync("empty", (x: number) => x)]), []);
});

Deno.test("mapAsync chains with flatMapBatch and another mapAsync", async () => {
  const out = await through([1, 2, 3, 4, 5], [
    mapAsync("a", async (x: number) => {
      await sleep(1);
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

Deno.test("mapAsync: maxBuffered bounds how far inputs are read ahead", async () => {
  let pulled = 0;
  let maxAhead = 0;
  let done = 0;
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => {
      let i = 0;
      return {
        nextBatch: () => {
          if (i >= 200) return EOF;
          pulled++;
          maxAhead = Math.max(maxAhead, pulled - done);
          return [i++];
        },
        snapshot: () => i,
      };
    },
  };
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", source)
    .pipe(mapAsync("slow", async (x: number) => {
      await sleep(0);
      done++;
      return x;
    }, { concurrency: 2, maxBuffered: 8 }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out.length, 200);
  assertEquals(out[199], 199);
  assertEquals(maxAhead <= 9, true, `read ${maxAhead} items ahead of completion`);
});

Deno.test("mapAsync validates its options", () => {
  assertThrows(
    () => mapAsync("a", (x) => x, { concurrency: 0 }),
    RangeError,
    "positive integer concurrency, got 0",
  );
  assertThrows(
    () => mapAsync("a", (x) => x, { maxBuffered: 1.5 }),
    RangeError,
    "positive integer maxBuffered, got 1.5",
  );
});
