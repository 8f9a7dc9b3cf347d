// mapValue: Bytewax's test_map_value.py plus keys, errors with key and cause.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { Dataflow, DataflowError, keyOn, mapValue } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

Deno.test("mapValue adds one to each value (Bytewax's case)", async () => {
  assertEquals(
    await through([0, 1, 2], [keyOn("key", () => "ALL"), mapValue("inc", (v: number) => v + 1)]),
    [["ALL", 1], ["ALL", 2], ["ALL", 3]],
  );
});

Deno.test("mapValue: empty input gives no output", async () => {
  assertEquals(await through([], [mapValue("inc", (v: number) => v + 1)]), []);
});

Deno.test("mapValue keeps each item's own key and may change the value's type", async () => {
  assertEquals(
    await through([["a", "x"], ["b", "yy"], ["a", "zzz"]], [
      mapValue("len", (v: string) => v.length),
    ]),
    [["a", 1], ["b", 2], ["a", 3]],
  );
});

Deno.test("mapValue keeps undefined results (unlike filterMapValue)", async () => {
  assertEquals(await through([["k", 1]], [mapValue("none", () => undefined)]), [["k", undefined]]);
});

Deno.test("mapValue: many items in batches", async () => {
  const items = Array.from({ length: 300 }, (_, i): [string, number] => [`k${i % 4}`, i]);
  assertEquals(
    await through(items, [mapValue("neg", (v: number) => -v)], { batchSize: 32 }),
    items.map(([k, v]) => [k, -v]),
  );
});

Deno.test("mapValue: a throwing mapper fails the run with step, key and cause", async () => {
  const boom = new Error("bad value");
  const out: unknown[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<[string, number]>([["k1", 1], ["k2", 2], ["k3", 3]]))
    .pipe(mapValue("m", (v: number) => {
      if (v === 2) throw boom;
      return v;
    }))
    .output("out", new TestingSink(out));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals([err.stepId, err.key, err.message], [
    "test_df.m",
    "k2",
    'Step "test_df.m" for key "k2" failed: bad value',
  ]);
  assertStrictEquals(err.cause, boom);
  assertEquals(out, [["k1", 1]]);
});

Deno.test("mapValue: a non-pair item fails the run", async () => {
  const err = await assertRejects(
    () => through([5], [mapValue("m", (v: number) => v)]),
    DataflowError,
    'Step "test_df.m": Expected a [key, value] pair with a string key, got 5',
  );
  assertEquals(err.stepId, "test_df.m");
});

Deno.test("mapValue validates its arguments at definition time", () => {
  assertThrows(
    () => mapValue("m", "nope" as never),
    TypeError,
    'mapValue("m") needs a mapper function, got a string',
  );
  assertThrows(() => mapValue("a.b", (v) => v), RangeError, `Step id "a.b" can't contain a period`);
});
