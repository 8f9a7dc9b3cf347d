// Validation of a flow's definition: eagerly while defining (Bytewax's test_dataflow.py:
// TypeError / RangeError with hints), and before anything runs (test_inputs.py and
// test_outputs.py: at least one input and one output).
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { map } from "rxjs";
import {
  Dataflow,
  DataflowError,
  type FixedPartitionedSource,
  inspect,
  keyOn,
  raises,
  run,
  step,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("a step id must be a string (Bytewax: must be a `str`)", () => {
  const flow = new Dataflow("test_df");
  assertThrows(
    () => flow.input(3 as unknown as string, new TestingSource([1])),
    TypeError,
    "Step id must be a string, got a number",
  );
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => s.output(undefined as unknown as string, new TestingSink([])),
    TypeError,
    "Step id must be a string, got undefined",
  );
  assertThrows(
    () => s.pipe(keyOn(null as unknown as string, String)),
    TypeError,
    "Step id must be a string, got null",
  );
});

Deno.test('a step id can\'t contain a period (Bytewax: "1.5")', () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => s.output("1.5", new TestingSink([])),
    RangeError,
    `Step id "1.5" can't contain a period`,
  );
  assertThrows(() => s.branch("1.5", () => true), RangeError, "can't contain a period");
  assertThrows(
    () => flow.input("1.5", new TestingSource([1])),
    RangeError,
    "can't contain a period",
  );
});

Deno.test("a step id must not be empty", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(() => s.output("", new TestingSink([])), RangeError, "Step id must not be empty");
});

Deno.test("flow ids follow the same rules", () => {
  assertThrows(() => new Dataflow("a.b"), RangeError, `Flow id "a.b" can't contain a period`);
  assertThrows(() => new Dataflow(""), RangeError, "Flow id must not be empty");
  assertThrows(
    () => new Dataflow(1 as unknown as string),
    TypeError,
    "Flow id must be a string, got a number",
  );
});

Deno.test("a duplicate step id is refused, whatever the kinds of the two steps", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => flow.input("inp", new TestingSource([2])),
    RangeError,
    'Step "test_df.inp" already exists; do you have two steps with the same id?',
  );
  s.pipe(keyOn("key", String));
  assertThrows(
    () => s.output("key", new TestingSink([])),
    RangeError,
    'Step "test_df.key" already exists',
  );
  assertThrows(
    () => s.pipe(map((x: number) => x), keyOn("key", String)),
    RangeError,
    'Step "test_df.key" already exists',
  );
});

Deno.test("ids are unique per scope: a substep may reuse a top-level name", () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1]))
    .pipe(step("s", keyOn("inp", String), step("s", map((x) => x))))
    .output("out", new TestingSink([]));
  assertEquals(flow.steps.map((s) => s.id).slice(1, 4), [
    "test_df.s",
    "test_df.s.inp",
    "test_df.s.s",
  ]);
  assertThrows(
    () => flow.input("s", new TestingSource([1])),
    RangeError,
    'Step "test_df.s" already exists',
  );
});

Deno.test("a non-Stream passed to merge is refused with a hint to destructure", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => flow.merge("m", 1 as never, 2 as never, 3 as never),
    TypeError,
    'Argument 2 of merge "test_df.m" must be a Stream, got a number; did you forget to ' +
      "destructure the result of an operator that returns several streams, like branch?",
  );
  const branched = s.branch("b", (x) => x > 0);
  // The classic mistake: passing branch's result instead of one of its streams.
  assertThrows(
    () => flow.merge("m2", s, branched as never),
    TypeError,
    'Argument 3 of merge "test_df.m2" must be a Stream, got an object; did you forget to destructure',
  );
});

Deno.test("a stream of another flow is refused", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  const other = new Dataflow("other");
  const foreign = other.input("inp", new TestingSource([1]));
  assertThrows(
    () => flow.merge("m", s, foreign),
    TypeError,
    'Argument 3 of merge "test_df.m" is stream "other.inp.down" of dataflow "other", not of "test_df"',
  );
});

Deno.test("pipe, input and output check what they are given", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => s.pipe(map((x: number) => x), 5 as never),
    TypeError,
    'Argument 2 of pipe in "test_df" must be an RxJS operator function, got a number',
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
  assertThrows(
    () => s.output("arr_sink", [] as never),
    TypeError,
    'Output "test_df.arr_sink" needs a FixedPartitionedSink or DynamicSink, got an array',
  );
});

Deno.test("a flow without an input is refused before running (Bytewax: at least one input)", async () => {
  const err = await assertRejects(
    () => runMain(new Dataflow("empty")),
    Error,
    'Dataflow "empty" needs at least one input step; add one with flow.input()',
  );
  assert(!(err instanceof DataflowError));
});

Deno.test("a flow without an output is refused before running (Bytewax: at least one output)", async () => {
  const noOut = new Dataflow("no_out");
  noOut.input("inp", new TestingSource([1])).pipe(map((x: number) => x));
  const err = await assertRejects(
    () => runMain(noOut),
    Error,
    'Dataflow "no_out" needs at least one output or inspect step; add one with ' +
      "stream.output() or inspect()",
  );
  assert(!(err instanceof DataflowError));
});

Deno.test("nothing is read from a source of an invalid flow", async () => {
  let listed = 0;
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => (listed++, ["p"]),
    buildPart: () => ({ nextBatch: () => [1], snapshot: () => 0 }),
  };
  const flow = new Dataflow("no_out");
  flow.input("inp", source);
  await assertRejects(() => run(flow), Error, "needs at least one output or inspect step");
  assertEquals(listed, 0);
});

Deno.test("a flow with only an input and inspect is valid; so is one with only raises", async () => {
  const seen: number[] = [];
  const inspected = new Dataflow("insp_only");
  inspected.input("inp", new TestingSource([1, 2])).pipe(inspect("look", (_id, x) => seen.push(x)));
  assertEquals(await runMain(inspected), { status: "eof", epoch: 1 });
  assertEquals(seen, [1, 2]);
  const guarded = new Dataflow("raises_only");
  guarded.input("inp", new TestingSource<number>([])).pipe(raises("never"));
  assertEquals(await runMain(guarded), { status: "eof", epoch: 1 });
});

Deno.test("run options are validated", async () => {
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
  await assertRejects(
    () => run(flow, { epochInterval: -1 }),
    RangeError,
    "epochInterval must be a number of milliseconds >= 0, got -1",
  );
  await assertRejects(
    () => run(flow, { workers: 0 }),
    RangeError,
    "workers must be a positive integer, got 0",
  );
  await assertRejects(
    () => run(flow, { workers: 2 }),
    TypeError,
    `Running flow "test_df" on 2 workers needs options.module: the URL of the module ` +
      `exporting the flow (import.meta.url), which every worker imports`,
  );
  await assertRejects(
    () => run(flow, { workers: 2, module: import.meta.url, clock: new TestClock() }),
    RangeError,
    "A clock cannot be passed with workers: 2; each worker reads the wall clock",
  );
});
