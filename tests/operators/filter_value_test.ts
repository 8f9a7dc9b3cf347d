// filterValue: Bytewax's test_filter_value.py plus the boolean contract and errors.
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { DataflowError, filterValue, keyOn } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("filterValue keeps odd values (Bytewax's case)", async () => {
  assertEquals(
    await through([1, 2, 3], [
      keyOn("key", () => "ALL"),
      filterValue("odd", (v: number) => v % 2 === 1),
    ]),
    [["ALL", 1], ["ALL", 3]],
  );
});

Deno.test("filterValue: empty input, and an input where nothing passes", async () => {
  assertEquals(await through([], [filterValue("f", () => true)]), []);
  assertEquals(await through([["a", 1], ["b", 2]], [filterValue("f", () => false)]), []);
});

Deno.test("filterValue: many items keep their order and keys", async () => {
  const items = Array.from({ length: 400 }, (_, i): [string, number] => [`k${i % 3}`, i]);
  assertEquals(
    await through(items, [filterValue("big", (v: number) => v >= 390)], { batchSize: 50 }),
    items.slice(390),
  );
});

Deno.test("filterValue: a non-boolean result fails the run naming step and key", async () => {
  const err = await assertRejects(
    () => through([["k", 1]], [filterValue("f", () => "yes" as unknown as boolean)]),
    DataflowError,
    'Step "test_df.f" for key "k": Predicate must return a boolean, got string',
  );
  assertEquals(
    err.message,
    'Step "test_df.f" for key "k": Predicate must return a boolean, got string: Predicate returned yes',
  );
  assertEquals([err.stepId, err.key], ["test_df.f", "k"]);
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("filterValue: truthy and falsy non-booleans are refused too", async () => {
  await assertRejects(
    () => through([["k", 1]], [filterValue("f", (v: number) => v as unknown as boolean)]),
    DataflowError,
    "Predicate must return a boolean, got number",
  );
  await assertRejects(
    () => through([["k", 1]], [filterValue("f", () => null as unknown as boolean)]),
    DataflowError,
    "Predicate must return a boolean, got null",
  );
  await assertRejects(
    () => through([["k", 1]], [filterValue("f", () => undefined as unknown as boolean)]),
    DataflowError,
    "Predicate must return a boolean, got undefined",
  );
});

Deno.test("filterValue: a throwing predicate fails with step, key and cause", async () => {
  const boom = new RangeError("out of range");
  const err = await assertRejects(
    () =>
      through([["a", 1], ["b", 2]], [filterValue("f", (v: number) => {
        if (v === 2) throw boom;
        return true;
      })]),
    DataflowError,
    'Step "test_df.f" for key "b" failed: out of range',
  );
  assertEquals([err.stepId, err.key], ["test_df.f", "b"]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("filterValue: a non-pair item fails the run", async () => {
  await assertRejects(
    () => through([[1, 2]], [filterValue("f", () => true)]),
    DataflowError,
    'Step "test_df.f": Expected a [key, value] pair with a string key, got [1,2]',
  );
});

Deno.test("filterValue validates its predicate at definition time", () => {
  assertThrows(
    () => filterValue("f", null as never),
    TypeError,
    'filterValue("f") needs a predicate function, got null',
  );
});
