// flatMap: Bytewax's test_flat_map.py plus iterables, errors and many items.
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { DataflowError, flatMap } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("flatMap splits a sentence (Bytewax's case)", async () => {
  assertEquals(await through(["split this"], [flatMap("split", (s: string) => s.split(" "))]), [
    "split",
    "this",
  ]);
});

Deno.test("flatMap takes a generator (Bytewax's case)", async () => {
  function* repeat([s, n]: [string, number]) {
    for (let i = 0; i < n; i++) yield s;
  }
  assertEquals(await through([["a", 2], ["b", 4]], [flatMap("rep", repeat)]), [
    "a",
    "a",
    "b",
    "b",
    "b",
    "b",
  ]);
});

Deno.test("flatMap takes any iterable: a Set, a Map's entries", async () => {
  assertEquals(await through([1], [flatMap("set", () => new Set(["x", "y", "x"]))]), ["x", "y"]);
  assertEquals(
    await through([1], [flatMap("map", () => new Map([["k", 1]]))]),
    [["k", 1]],
  );
});

Deno.test("flatMap: empty input, and empty results", async () => {
  assertEquals(await through([], [flatMap("none", (x: number) => [x])]), []);
  assertEquals(await through(["x", "y"], [flatMap("none", () => [])]), []);
});

Deno.test("flatMap: many items keep their order across batches", async () => {
  const items = Array.from({ length: 500 }, (_, i) => i);
  assertEquals(
    await through(items, [flatMap("dup", (x: number) => [x, -x])], { batchSize: 9 }),
    items.flatMap((x) => [x, -x]),
  );
});

Deno.test("flatMap: a non-iterable result fails the run naming the step", async () => {
  const err = await assertRejects(
    () => through([1], [flatMap("bad", () => 5 as unknown as number[])]),
    DataflowError,
    'Step "test_df.bad": Mapper must return an iterable, got 5',
  );
  assertEquals(
    err.message,
    'Step "test_df.bad": Mapper must return an iterable, got 5: 5 is not iterable',
  );
  assertEquals(err.stepId, "test_df.bad");
  assertInstanceOf(err.cause, TypeError);
  await assertRejects(
    () => through([1], [flatMap("bad", () => undefined as unknown as number[])]),
    DataflowError,
    "Mapper must return an iterable, got undefined",
  );
});

Deno.test("flatMap: a throwing mapper, or a generator throwing midway, fails with the cause", async () => {
  const boom = new Error("boom");
  const err = await assertRejects(
    () =>
      through([1], [flatMap("f", () => {
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.f" failed: boom',
  );
  assertStrictEquals(err.cause, boom);
  const lazy = await assertRejects(
    () =>
      through([1], [flatMap("gen", function* () {
        yield 1;
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.gen" failed: boom',
  );
  assertStrictEquals(lazy.cause, boom);
});

Deno.test("flatMap validates its mapper at definition time", () => {
  assertThrows(
    () => flatMap("f", {} as never),
    TypeError,
    'flatMap("f") needs a mapper function, got an object',
  );
  assertThrows(
    () => flatMap(7 as unknown as string, (x) => [x]),
    TypeError,
    "Step id must be a string, got a number",
  );
});
