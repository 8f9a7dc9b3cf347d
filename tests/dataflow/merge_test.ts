// Dataflow.merge: Bytewax's test_merge.py (exact single-worker interleave) plus EOF,
// self-merges, branch reassembly and typing.
import { assertEquals, assertThrows } from "@std/assert";
import { map, toArray } from "rxjs";
import { Dataflow, keyOn, type Stream } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** Exact type equality: resolves to true only when A and B are the same type. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

Deno.test("merge interleaves three inputs round-robin (Bytewax's exact order)", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  const a = flow.input("a", new TestingSource([1, 3, 5]));
  const b = flow.input("b", new TestingSource([2, 4, 6]));
  const c = flow.input("c", new TestingSource([100, 200, 300]));
  flow.merge("merge", a, b, c).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 2, 100, 3, 4, 200, 5, 6, 300]);
  assertEquals(
    flow.steps.filter((s) => s.kind === "merge").map((s) => [s.id, s.ups, s.downs]),
    [["test_df.merge", ["test_df.a.down", "test_df.b.down", "test_df.c.down"], [
      "test_df.merge.down",
    ]]],
  );
});

Deno.test("merge interleaves whole batches, and keeps each upstream's order", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  const a = flow.input("a", new TestingSource([1, 2, 3, 4, 5], { batchSize: 2 }));
  const b = flow.input("b", new TestingSource([10, 20, 30], { batchSize: 3 }));
  flow.merge("merge", a, b).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 2, 10, 20, 30, 3, 4, 5]);
});

Deno.test("merge ends only when every upstream ended", async () => {
  const out: number[][] = [];
  const flow = new Dataflow("test_df");
  const short = flow.input("short", new TestingSource([1]));
  const long = flow.input("long", new TestingSource([10, 20, 30, 40]));
  flow.merge("merge", short, long).pipe(toArray()).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [[1, 10, 20, 30, 40]]);
});

Deno.test("merge: empty upstreams give an empty stream that still ends", async () => {
  const out: number[][] = [];
  const flow = new Dataflow("test_df");
  const a = flow.input("a", new TestingSource<number>([]));
  const b = flow.input("b", new TestingSource<number>([]));
  flow.merge("merge", a, b).pipe(toArray()).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [[]]);
});

Deno.test("merge of one stream is that stream", async () => {
  const out: string[] = [];
  const flow = new Dataflow("test_df");
  flow.merge("merge", flow.input("a", new TestingSource(["x", "y"])))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, ["x", "y"]);
});

Deno.test("merge of a stream with itself gives each item twice", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  const s = flow.input("a", new TestingSource([1, 2]));
  flow.merge("merge", s, s).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 1, 2, 2]);
});

Deno.test("merge reassembles the two sides of a branch in input order", async () => {
  const out: string[] = [];
  const flow = new Dataflow("test_df");
  const { trues, falses } = flow.input("inp", new TestingSource([1, 2, 3, 4, 5]))
    .branch("odd", (x) => x % 2 === 1);
  flow.merge(
    "merge",
    trues.pipe(map((x: number) => `odd${x}`)),
    falses.pipe(map((x: number) => `even${x}`)),
  ).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, ["odd1", "even2", "odd3", "even4", "odd5"]);
});

Deno.test("merge feeds weir operators like any stream", async () => {
  const out: [string, number][] = [];
  const flow = new Dataflow("test_df");
  const a = flow.input("a", new TestingSource([1, 2]));
  const b = flow.input("b", new TestingSource([3]));
  flow.merge("merge", a, b).pipe(keyOn("k", (x) => (x % 2 ? "odd" : "even")))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["odd", 1], ["odd", 3], ["even", 2]]);
});

Deno.test("merge's item type is the union of its upstreams' types", () => {
  const flow = new Dataflow("test_df");
  const nums = flow.input("a", new TestingSource([1]));
  const strs = flow.input("b", new TestingSource(["x"]));
  const merged = flow.merge("merge", nums, strs);
  expectType<Equals<typeof merged, Stream<number | string>>>(true);
  assertEquals(merged.id, "test_df.merge.down");
});

Deno.test("merge validates its arguments at definition time", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(() => flow.merge("m"), TypeError, 'Merge "test_df.m" needs at least one stream');
  assertThrows(
    () => flow.merge("m2", s, 1 as never),
    TypeError,
    'Argument 3 of merge "test_df.m2" must be a Stream, got a number; did you forget to destructure',
  );
  assertThrows(() => flow.merge("a.b", s), RangeError, `Step id "a.b" can't contain a period`);
  assertThrows(
    () => flow.merge("inp", s),
    RangeError,
    'Step "test_df.inp" already exists; do you have two steps with the same id?',
  );
});
