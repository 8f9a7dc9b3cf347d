// filterMapValue: Bytewax's test_filter_map_value.py plus keys and errors.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { DataflowError, filterMapValue, keyOn } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("filterMapValue drops undefined values and maps the rest (Bytewax's case)", async () => {
  const mapper = (x: number) => (x % 2 === 1 ? undefined : x + 1);
  assertEquals(
    await through([0, 1, 2, 3, 4, 5], [keyOn("key", () => "ALL"), filterMapValue("fm", mapper)]),
    [["ALL", 1], ["ALL", 3], ["ALL", 5]],
  );
});

Deno.test("filterMapValue drops null, keeps 0 and keeps each item's key", async () => {
  assertEquals(
    await through([["a", 1], ["b", 2], ["c", 3]], [
      filterMapValue("fm", (v: number) => (v === 2 ? null : v - 1)),
    ]),
    [["a", 0], ["c", 2]],
  );
});

Deno.test("filterMapValue: empty input gives no output", async () => {
  assertEquals(await through([], [filterMapValue("fm", (v: number) => v)]), []);
});

Deno.test("filterMapValue: a throwing mapper fails with step, key and cause", async () => {
  const boom = new Error("bad");
  const err = await assertRejects(
    () =>
      through([["a", 1], ["b", 2]], [filterMapValue("fm", (v: number) => {
        if (v === 2) throw boom;
        return v;
      })]),
    DataflowError,
    'Step "test_df.fm" for key "b" failed: bad',
  );
  assertEquals([err.stepId, err.key], ["test_df.fm", "b"]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("filterMapValue: a non-pair item fails the run", async () => {
  const err = await assertRejects(
    () => through(["x"], [filterMapValue("fm", (v: number) => v)]),
    DataflowError,
    'Step "test_df.fm": Expected a [key, value] pair with a string key, got "x"',
  );
  assertEquals(err.stepId, "test_df.fm");
});

Deno.test("filterMapValue validates its mapper at definition time", () => {
  assertThrows(
    () => filterMapValue("fm", 3 as never),
    TypeError,
    'filterMapValue("fm") needs a mapper function, got a number',
  );
});
