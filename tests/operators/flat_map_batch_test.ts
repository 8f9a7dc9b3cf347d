// flatMapBatch: Bytewax's test_flat_map_batch.py plus batch boundaries, EOF and errors.
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { filter, map } from "rxjs";
import { Dataflow, DataflowError, flatMapBatch } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

Deno.test("flatMapBatch maps each batch (Bytewax's case)", async () => {
  const batches: string[][] = [];
  const out = await through(["split this", "and this"], [
    flatMapBatch("split", (lines: string[]) => {
      batches.push([...lines]);
      return lines.flatMap((l) => l.split(" "));
    }),
  ], { batchSize: 10 });
  assertEquals(out, ["split", "this", "and", "this"]);
  assertEquals(batches, [["split this", "and this"]]);
});

Deno.test("flatMapBatch: the identity over 100 000 items in batches of 10 keeps order (Bytewax's benchmark)", async () => {
  const items = Array.from({ length: 100_000 }, (_, i) => i);
  let calls = 0;
  const out = await through(items, [flatMapBatch("id", (b: number[]) => (calls++, b))], {
    batchSize: 10,
  });
  assertEquals(out, items);
  assertEquals(calls, 10_000);
});

Deno.test("flatMapBatch sees the source's batches, through upstream steps", async () => {
  const sizes = await through(Array.from({ length: 25 }, (_, i) => i), [
    map((x: number) => x),
    flatMapBatch("sizes", (b: number[]) => [b.length]),
  ], { batchSize: 10 });
  assertEquals(sizes, [10, 10, 5]);
});

Deno.test("flatMapBatch is not called for a batch that upstream filtered away", async () => {
  const batches: number[][] = [];
  const out = await through([1, 2, 3, 4, 5, 6], [
    filter((x: number) => x > 4),
    flatMapBatch("seen", (b: number[]) => (batches.push([...b]), b)),
  ], { batchSize: 2 });
  assertEquals(out, [5, 6]);
  assertEquals(batches, [[5, 6]]);
});

Deno.test("flatMapBatch's batch is everything one activation brought, over merged inputs", async () => {
  const out: number[][] = [];
  const flow = new Dataflow("test_df");
  const a = flow.input("a", new TestingSource([1, 2, 3], { batchSize: 2 }));
  const b = flow.input("b", new TestingSource([10, 20], { batchSize: 2 }));
  flow.merge("m", a, b)
    .pipe(flatMapBatch("batch", (batch: number[]) => [batch]))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [[1, 2, 10, 20], [3]]);
});

Deno.test("flatMapBatch: empty input never calls the mapper; the flow ends", async () => {
  let calls = 0;
  assertEquals(await through([], [flatMapBatch("b", (b: number[]) => (calls++, b))]), []);
  assertEquals(calls, 0);
});

Deno.test("flatMapBatch: one item, and a generator result", async () => {
  assertEquals(
    await through(["x"], [flatMapBatch("gen", function* (b: string[]) {
      for (const s of b) yield* [s, s.toUpperCase()];
    })]),
    ["x", "X"],
  );
});

Deno.test("flatMapBatch: a non-iterable result fails the run naming the step", async () => {
  const err = await assertRejects(
    () => through([1], [flatMapBatch("bad", () => 3 as unknown as number[])]),
    DataflowError,
    'Step "test_df.bad": Mapper must return an iterable, got 3',
  );
  assertEquals(
    err.message,
    'Step "test_df.bad": Mapper must return an iterable, got 3: 3 is not iterable',
  );
  assertEquals(err.stepId, "test_df.bad");
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("flatMapBatch: a throwing mapper fails the run with the cause; later batches are not written", async () => {
  const boom = new Error("batch failed");
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3, 4, 5, 6], { batchSize: 2 }))
    .pipe(flatMapBatch("b", (batch: number[]) => {
      if (batch.includes(3)) throw boom;
      return batch;
    }))
    .output("out", new TestingSink(out));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.b" failed: batch failed',
  );
  assertEquals(err.stepId, "test_df.b");
  assertStrictEquals(err.cause, boom);
  assertEquals(out, [1, 2]);
});

Deno.test("flatMapBatch validates its arguments at definition time", () => {
  assertThrows(
    () => flatMapBatch("b", 1 as never),
    TypeError,
    'flatMapBatch("b") needs a mapper function, got a number',
  );
  assertThrows(
    () => flatMapBatch("b.c", (b) => b),
    RangeError,
    `Step id "b.c" can't contain a period`,
  );
});
