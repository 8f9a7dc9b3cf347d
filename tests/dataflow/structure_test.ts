// branch, merge, fan-out, definition-time validation and run-time validation.
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { map } from "rxjs";
import { Dataflow, DataflowError, keyOn } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("branch: odd to trues, even to falses", async () => {
  const trues: number[] = [];
  const falses: number[] = [];
  const flow = new Dataflow("test_df");
  const b = flow.input("inp", new TestingSource([1, 2, 3])).branch("odd", (x) => x % 2 === 1);
  b.trues.output("t", new TestingSink(trues));
  b.falses.output("f", new TestingSink(falses));
  await runMain(flow);
  assertEquals([trues, falses], [[1, 3], [2]]);
});

Deno.test("branch: a type guard splits numbers from strings", async () => {
  const nums: number[] = [];
  const strs: string[] = [];
  const flow = new Dataflow("test_df");
  const { trues, falses } = flow.input("inp", new TestingSource<number | string>([1, "a", 2, "b"]))
    .branch("is_int", (x): x is number => typeof x === "number");
  trues.pipe(map((n) => n + 0)).output("nums", new TestingSink(nums));
  falses.pipe(map((s) => s.toUpperCase())).output("strs", new TestingSink(strs));
  await runMain(flow);
  assertEquals([nums, strs], [[1, 2], ["A", "B"]]);
});

Deno.test("branch: a non-boolean predicate result fails naming the branch", async () => {
  const flow = new Dataflow("test_df");
  const { trues } = flow.input("inp", new TestingSource([1]))
    .branch("bad", () => "yes" as unknown as boolean);
  trues.output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.bad": Predicate must return a boolean, got string',
  );
  assertEquals(err.stepId, "test_df.bad");
});

Deno.test("branch: 100 000 items in batches of 10 keep their order on both sides", async () => {
  const evens: number[] = [];
  const odds: number[] = [];
  const flow = new Dataflow("test_df");
  const items = Array.from({ length: 100_000 }, (_, i) => i);
  const b = flow.input("inp", new TestingSource(items, { batchSize: 10 })).branch(
    "even",
    (x) => x % 2 === 0,
  );
  b.trues.output("evens", new TestingSink(evens));
  b.falses.output("odds", new TestingSink(odds));
  await runMain(flow);
  assertEquals(evens, items.filter((x) => x % 2 === 0));
  assertEquals(odds, items.filter((x) => x % 2 === 1));
});

Deno.test("merge interleaves three inputs round-robin (Bytewax's exact order)", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  const a = flow.input("a", new TestingSource([1, 3, 5]));
  const b = flow.input("b", new TestingSource([2, 4, 6]));
  const c = flow.input("c", new TestingSource([100, 200, 300]));
  flow.merge("merge", a, b, c).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 2, 100, 3, 4, 200, 5, 6, 300]);
});

Deno.test("merge ends only when every upstream ended", async () => {
  const out: unknown[] = [];
  const flow = new Dataflow("test_df");
  const short = flow.input("short", new TestingSource([1]));
  const long = flow.input("long", new TestingSource([10, 20, 30, 40]));
  flow.merge("merge", short, long).pipe(map((x: number) => x)).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 10, 20, 30, 40]);
});

Deno.test("fan-out: a stream feeding two steps gives each every item, upstream runs once", async () => {
  let upstreamCalls = 0;
  const a: number[] = [];
  const b: string[] = [];
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1, 2, 3])).pipe(
    map((x: number) => (upstreamCalls++, x)),
  );
  s.output("a", new TestingSink(a));
  s.pipe(keyOn("k", String), map(([k]) => k)).output("b", new TestingSink(b));
  await runMain(flow);
  assertEquals([a, b, upstreamCalls], [[1, 2, 3], ["1", "2", "3"], 3]);
});

Deno.test("definition errors: step ids, duplicates, foreign streams, non-streams", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => flow.input(3 as unknown as string, new TestingSource([1])),
    TypeError,
    "Step id must be a string, got a number",
  );
  assertThrows(
    () => s.output("1.5", new TestingSink([])),
    RangeError,
    `Step id "1.5" can't contain a period`,
  );
  assertThrows(() => s.output("", new TestingSink([])), RangeError, "Step id must not be empty");
  assertThrows(
    () => flow.input("inp", new TestingSource([2])),
    RangeError,
    'Step "test_df.inp" already exists; do you have two steps with the same id?',
  );
  assertThrows(
    () => flow.merge("m", 1 as never, 2 as never),
    TypeError,
    'Argument 2 of merge "test_df.m" must be a Stream, got a number; did you forget to destructure',
  );
  const other = new Dataflow("other");
  const foreign = other.input("inp", new TestingSource([1]));
  assertThrows(
    () => flow.merge("m2", s, foreign),
    TypeError,
    'is stream "other.inp.down" of dataflow "other", not of "test_df"',
  );
  assertThrows(
    () => s.pipe(5 as never),
    TypeError,
    'Argument 1 of pipe in "test_df" must be an RxJS operator function, got a number',
  );
  assertThrows(
    () => flow.input("bad_src", {} as never),
    TypeError,
    'Input "test_df.bad_src" needs a FixedPartitionedSource or DynamicSource, got an object',
  );
  assertThrows(
    () => s.output("bad_sink", 42 as never),
    TypeError,
    'Output "test_df.bad_sink" needs a FixedPartitionedSink or DynamicSink, got a number',
  );
  assertThrows(() => flow.merge("m3"), TypeError, 'Merge "test_df.m3" needs at least one stream');
});

Deno.test("run-time validation: no input, no output", async () => {
  await assertRejects(
    () => runMain(new Dataflow("empty")),
    Error,
    'Dataflow "empty" needs at least one input step',
  );
  const noOut = new Dataflow("no_out");
  noOut.input("inp", new TestingSource([1]));
  await assertRejects(
    () => runMain(noOut),
    Error,
    'Dataflow "no_out" needs at least one output or inspect step',
  );
});

Deno.test("a custom error class survives as the cause; earlier items were written", async () => {
  class MyError extends Error {
    constructor(readonly code: number, msg: string) {
      super(msg);
    }
  }
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([0, 1, 2])).pipe(map((x: number) => {
    if (x === 1) throw new MyError(7, "custom");
    return x;
  })).output("out", new TestingSink(out));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals([err.cause instanceof MyError, (err.cause as MyError).code], [true, 7]);
  assertEquals(out, [0]);
});

Deno.test("the same flow runs twice with fresh operators", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2])).pipe(map((x: number) => x + 1)).output(
    "out",
    new TestingSink(out),
  );
  await runMain(flow);
  await runMain(flow);
  assertEquals(out, [2, 3, 2, 3]);
});
