// flatten: Bytewax's test_flatten.py plus other iterables and empty input.
import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { DataflowError, flatten } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("flatten flattens lists, skipping empty ones (Bytewax's case)", async () => {
  assertEquals(await through([[1, 2], [], [3]], [flatten("flat")]), [1, 2, 3]);
});

Deno.test("flatten flattens one level only", async () => {
  assertEquals(await through([[[1, 2]], [3]], [flatten("flat")]), [[1, 2], 3]);
});

Deno.test("flatten takes any iterable: a Set, a string, a generator", async () => {
  function* gen() {
    yield "g1";
    yield "g2";
  }
  assertEquals(await through([new Set(["a", "b"]), "cd", gen()], [flatten("flat")]), [
    "a",
    "b",
    "c",
    "d",
    "g1",
    "g2",
  ]);
});

Deno.test("flatten: empty input gives no output", async () => {
  assertEquals(await through([], [flatten("flat")]), []);
});

Deno.test("flatten: a non-iterable item fails the run (Bytewax's case)", async () => {
  const err = await assertRejects(
    () => through([[1], 666], [flatten("flat")]),
    DataflowError,
    "iterables",
  );
  assertEquals(
    err.message,
    'Step "test_df.flat": Flatten requires upstream items to be iterables, got 666: ' +
      "666 is not iterable",
  );
  assertEquals(err.stepId, "test_df.flat");
  assertInstanceOf(err.cause, TypeError);
  await assertRejects(
    () => through([null], [flatten("flat")]),
    DataflowError,
    "Flatten requires upstream items to be iterables, got null",
  );
});

Deno.test("flatten validates its step id", () => {
  assertThrows(() => flatten("f.g"), RangeError, `Step id "f.g" can't contain a period`);
});
