import { assertEquals, assertRejects } from "@std/assert";
import { Dataflow, DataflowError, keyOn } from "../../mod.ts";
import { countFinal } from "../../src/operators/count_final.ts";
import { foldFinal } from "../../src/operators/fold_final.ts";
import { maxFinal } from "../../src/operators/max_final.ts";
import { minFinal } from "../../src/operators/min_final.ts";
import { reduceFinal } from "../../src/operators/reduce_final.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("countFinal: counts by key at EOF in sorted key order", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(["a", "a", "b", "c", "b", "a"]))
    .pipe(countFinal("count", (x) => x))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", 3], ["b", 2], ["c", 1]]);
  assertEquals(flow.steps.map((s) => s.id), [
    "test_df.inp",
    "test_df.count",
    "test_df.count.key",
    "test_df.count.count",
    "test_df.out",
  ]);
});

Deno.test("countFinal: empty input emits nothing; a non-string key fails naming the substep", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource<string>([])).pipe(countFinal("count", (x) => x))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, []);

  const bad = new Dataflow("test_df");
  bad.input("inp", new TestingSource([1])).pipe(countFinal("count", (x) => x as unknown as string))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(bad),
    DataflowError,
    "Key function must return a string",
  );
  assertEquals(err.stepId, "test_df.count.key");
});

Deno.test("foldFinal: max per key (Bytewax's case) and a fresh accumulator per key", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 4, 2, 9, 4, 3]))
    .pipe(
      keyOn("key", () => "ALL"),
      foldFinal("fold", () => 0, (acc: number, v: number) => Math.max(acc, v)),
    )
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["ALL", 9]]);

  const lists: [string, string[]][] = [];
  const f2 = new Dataflow("test_df");
  f2.input("inp", new TestingSource<[string, string]>([["x", "1"], ["y", "2"], ["x", "3"]]))
    .pipe(foldFinal("fold", (): string[] => [], (acc: string[], v: string) => (acc.push(v), acc)))
    .output("out", new TestingSink(lists));
  await runMain(f2);
  assertEquals(lists, [["x", ["1", "3"]], ["y", ["2"]]]);
});

Deno.test("reduceFinal: max per key (Bytewax's case); an error names step and key", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 4, 2, 9, 4, 3]))
    .pipe(
      keyOn("key", () => "ALL"),
      reduceFinal("reduce", (a: number, b: number) => Math.max(a, b)),
    )
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["ALL", 9]]);

  const boom = new Error("boom");
  const bad = new Dataflow("test_df");
  bad.input("inp", new TestingSource<[string, number]>([["k", 1], ["k", 2]]))
    .pipe(reduceFinal("reduce", (): number => {
      throw boom;
    }))
    .output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(bad), DataflowError);
  assertEquals([err.stepId, err.key, err.cause], ["test_df.reduce", "k", boom]);
});

Deno.test("maxFinal / minFinal return the whole item (Bytewax's case)", async () => {
  type Ev = { user: string; val: number };
  const items: Ev[] = [{ user: "a", val: 1 }, { user: "a", val: 9 }, { user: "a", val: 3 }];
  const maxOut: [string, Ev][] = [];
  const minOut: [string, Ev][] = [];
  const flow = new Dataflow("test_df");
  const keyed = flow.input("inp", new TestingSource(items)).pipe(keyOn("key", (e) => e.user));
  keyed.pipe(maxFinal("max", (e: Ev) => e.val)).output("max_out", new TestingSink(maxOut));
  keyed.pipe(minFinal("min", (e: Ev) => e.val)).output("min_out", new TestingSink(minOut));
  await runMain(flow);
  assertEquals(maxOut, [["a", { user: "a", val: 9 }]]);
  assertEquals(minOut, [["a", { user: "a", val: 1 }]]);
});

Deno.test("maxFinal / minFinal default to the value itself; ties keep the first", async () => {
  const out: [string, [number, string]][] = [];
  const flow = new Dataflow("test_df");
  flow.input(
    "inp",
    new TestingSource<[string, [number, string]]>([["k", [2, "first"]], ["k", [2, "second"]]]),
  )
    .pipe(maxFinal("max", (v: [number, string]) => v[0]))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["k", [2, "first"]]]);
  const nums: [string, number][] = [];
  const f2 = new Dataflow("test_df");
  f2.input("inp", new TestingSource<[string, number]>([["k", 5], ["k", -3], ["k", 4]]))
    .pipe(minFinal("min"))
    .output("out", new TestingSink(nums));
  await runMain(f2);
  assertEquals(nums, [["k", -3]]);
});
