// filterMap: Bytewax's test_filter_map.py (Python None ↔ undefined/null) plus errors.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { DataflowError, filterMap } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("filterMap drops undefined results and maps the rest (Bytewax's case)", async () => {
  const mapper = (x: number) => (x % 2 === 1 ? undefined : x + 1);
  assertEquals(await through([0, 1, 2, 3, 4, 5], [filterMap("fm", mapper)]), [1, 3, 5]);
});

Deno.test("filterMap drops null results too", async () => {
  assertEquals(await through([1, 2], [filterMap("fm", (x: number) => (x === 1 ? null : x))]), [2]);
});

Deno.test("filterMap keeps falsy results other than undefined and null", async () => {
  assertEquals(
    await through([0, 1, 2, 3], [filterMap("fm", (x: number) => [0, "", false, Number.NaN][x])]),
    [0, "", false, Number.NaN],
  );
});

Deno.test("filterMap: empty input, and one item", async () => {
  assertEquals(await through([], [filterMap("fm", (x: number) => x)]), []);
  assertEquals(await through(["a"], [filterMap("fm", (s: string) => s.toUpperCase())]), ["A"]);
});

Deno.test("filterMap: many items in batches", async () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  assertEquals(
    await through(items, [filterMap("fm", (x: number) => (x % 10 === 0 ? `#${x}` : undefined))], {
      batchSize: 64,
    }),
    items.filter((x) => x % 10 === 0).map((x) => `#${x}`),
  );
});

Deno.test("filterMap: a throwing mapper fails the run with the step id and cause", async () => {
  const boom = new Error("parse failed");
  const err = await assertRejects(
    () =>
      through(["1", "x"], [filterMap("parse", (s: string) => {
        if (s === "x") throw boom;
        return Number(s);
      })]),
    DataflowError,
    'Step "test_df.parse" failed: parse failed',
  );
  assertEquals([err.stepId, err.key], ["test_df.parse", undefined]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("filterMap validates its mapper at definition time", () => {
  assertThrows(
    () => filterMap("fm", undefined as never),
    TypeError,
    'filterMap("fm") needs a mapper function, got undefined',
  );
});
