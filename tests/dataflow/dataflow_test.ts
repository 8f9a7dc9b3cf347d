// The definition API: ids, the recorded graph, fluent piping, fan-out and re-running.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { map, scan, tap } from "rxjs";
import {
  Dataflow,
  DataflowError,
  EOF,
  type FixedPartitionedSource,
  keyOn,
  mapValue,
  run,
  step,
} from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

Deno.test("flow id with a period is rejected", () => {
  assertThrows(() => new Dataflow("a.b"), RangeError, `Flow id "a.b" can't contain a period`);
});

Deno.test("step ids are recorded fully qualified, in definition order", () => {
  const flow = new Dataflow("df");
  flow.input("inp", new TestingSource([1]))
    .pipe(map((x: number) => x), keyOn("key", (x) => `${x}`), step("named", map((x) => x)))
    .output("out", new TestingSink([]));
  assertEquals(flow.steps.map((s) => s.id), [
    "df.inp",
    "df.pipe_1",
    "df.key",
    "df.named",
    "df.out",
  ]);
});

Deno.test("the recorded graph links each step's streams", () => {
  const flow = new Dataflow("df");
  flow.input("inp", new TestingSource([1]))
    .pipe(map((x: number) => x), keyOn("key", String))
    .output("out", new TestingSink([]));
  assertEquals(flow.flowId, "df");
  assertEquals(
    flow.steps.map((s) => [s.id, s.kind, s.opType, s.parent, s.ups, s.downs]),
    [
      ["df.inp", "input", "input", "df", [], ["df.inp.down"]],
      ["df.pipe_1", "rx", "pipe", "df", ["df.inp.down"], ["df.pipe_1.down"]],
      ["df.key", "chain", "keyOn", "df", ["df.pipe_1.down"], ["df.key.down"]],
      ["df.out", "output", "output", "df", ["df.key.down"], []],
    ],
  );
});

Deno.test("chained pipe calls (Bytewax's fluent .then) add one each", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([0, 1, 2]))
    .pipe(map((x: number) => x + 1))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 2, 3]);
});

Deno.test("run() runs a flow to EOF (Bytewax's test_run)", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([0, 1, 2]))
    .pipe(map((x: number) => x + 1))
    .output("out", new TestingSink(out));
  assertEquals(await run(flow), { status: "eof", epoch: 1 });
  assertEquals(out, [1, 2, 3]);
});

Deno.test("runs of plain operators are named pipe_1, pipe_2… across pipe calls", () => {
  const flow = new Dataflow("df");
  const s = flow.input("inp", new TestingSource([1]))
    .pipe(map((x: number) => x), map((x) => x))
    .pipe(map((x) => x));
  s.pipe(keyOn("k", String), map(([k]) => k), map((k) => k)).output("out", new TestingSink([]));
  assertEquals(
    flow.steps.filter((st) => st.kind === "rx").map((st) => [st.id, st.ops.length]),
    [["df.pipe_1", 2], ["df.pipe_2", 1], ["df.pipe_3", 2]],
  );
});

Deno.test("automatic pipe names skip names already taken; taking one later collides", () => {
  const flow = new Dataflow("df");
  const s = flow.input("inp", new TestingSource([1])).pipe(step("pipe_1", map((x: number) => x)));
  const t = s.pipe(map((x) => x));
  assertEquals(t.id, "df.pipe_2.down");
  assertThrows(
    () => t.pipe(step("pipe_3", map((x) => x))).pipe(map((x) => x), step("pipe_2")),
    RangeError,
    'Step "df.pipe_2" already exists',
  );
});

Deno.test("pipe() with no operators returns the same stream", () => {
  const flow = new Dataflow("df");
  const s = flow.input("inp", new TestingSource([1]));
  assertEquals(s.pipe().id, s.id);
  assertEquals(flow.steps.length, 1);
});

Deno.test("defining a flow runs nothing: no source is opened, no operator called", async () => {
  let listed = 0;
  let mapped = 0;
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => (listed++, ["p"]),
    buildPart: () => {
      let i = 0;
      return { nextBatch: () => (i++ === 0 ? [1] : EOF), snapshot: () => i };
    },
  };
  const out: number[] = [];
  const flow = new Dataflow("df");
  flow.input("inp", source).pipe(map((x: number) => (mapped++, x)))
    .output("out", new TestingSink(out));
  assertEquals([listed, mapped], [0, 0]);
  await runMain(flow);
  assertEquals([listed, mapped, out], [1, 1, [1]]);
});

Deno.test("fan-out: one stream piped to two outputs gives both every item; upstream runs once", async () => {
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

Deno.test("fan-out: each consumer sees each item in turn, in definition order", async () => {
  const log: string[] = [];
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1, 2], { batchSize: 2 }));
  s.pipe(tap((x: number) => log.push(`a${x}`))).output("a", new TestingSink([]));
  s.pipe(tap((x: number) => log.push(`b${x}`))).output("b", new TestingSink([]));
  await runMain(flow);
  assertEquals(log, ["a1", "b1", "a2", "b2"]);
});

Deno.test("the same flow runs twice with fresh operators and fresh state", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2]))
    .pipe(scan((acc: number, x: number) => acc + x, 0))
    .output("out", new TestingSink(out));
  await runMain(flow);
  await runMain(flow);
  assertEquals(out, [1, 3, 1, 3]);
});

Deno.test("a composite records substeps under its id; their errors name them", async () => {
  const boom = new Error("boom");
  const flow = new Dataflow("df");
  const a = flow.input("a", new TestingSource([["k", 1]] as [string, number][]));
  const b = flow.input("b", new TestingSource([["k", 2]] as [string, number][]));
  const merged = flow.composite("both", "both", (scope) =>
    scope.merge(
      "merge",
      scope.pipe(
        a,
        mapValue("fail", (v: number) => {
          if (v === 1) throw boom;
          return v;
        }),
      ),
      b,
    ));
  merged.output("out", new TestingSink([]));
  assertEquals(flow.steps.map((s) => [s.id, s.parent]), [
    ["df.a", "df"],
    ["df.b", "df"],
    ["df.both", "df"],
    ["df.both.fail", "df.both"],
    ["df.both.merge", "df.both"],
    ["df.out", "df"],
  ]);
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "df.both.fail" for key "k" failed: boom',
  );
  assertStrictEquals(err.cause, boom);
  assertThrows(
    () => flow.composite("c", "c", (scope) => scope.pipe(1 as never)),
    TypeError,
    'The stream piped in composite "df.c" must be a Stream, got a number; did you forget to destructure',
  );
});
