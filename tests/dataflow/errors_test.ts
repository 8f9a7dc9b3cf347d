// Run-time failures: Bytewax's test_execution.py (a custom exception survives as the cause;
// items written before the failure stay written) plus how each kind of step names itself in
// the one DataflowError a failed run rejects with.
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { map, tap } from "rxjs";
import {
  Dataflow,
  DataflowError,
  type DynamicSink,
  type FixedPartitionedSource,
  flatMapBatch,
  isDataflowError,
  keyOn,
  mapAsync,
  mapValue,
  run,
} from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** A user error type with a two-argument constructor, like Bytewax's test. */
class MyError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "MyError";
  }
}

Deno.test("a custom error class survives as the cause; fewer than 3 items reached the sink (Bytewax's case)", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([0, 1, 2])).pipe(map((x: number) => {
    if (x === 0) throw new MyError(7, "custom");
    return x + 1;
  })).output("out", new TestingSink(out));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.pipe_1" failed: custom',
  );
  assertInstanceOf(err.cause, MyError);
  assertEquals([err.cause.code, err.cause.message, err.cause.name], [7, "custom", "MyError"]);
  assertLess(out.length, 3);
  assertEquals(out, []);
});

Deno.test("items written before the failure stay written; later ones are not processed", async () => {
  const out: number[] = [];
  const seen: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([0, 1, 2, 3]))
    .pipe(
      tap((x: number) => seen.push(x)),
      map((x: number) => {
        if (x === 2) throw new MyError(1, "at two");
        return x;
      }),
    )
    .output("out", new TestingSink(out));
  await assertRejects(() => runMain(flow), DataflowError, "at two");
  assertEquals(out, [0, 1]);
  assertEquals(seen, [0, 1, 2]);
});

Deno.test("run rejects like runMain; the error is a DataflowError and an Error", async () => {
  const boom = new Error("boom");
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1])).pipe(map(() => {
    throw boom;
  })).output("out", new TestingSink([]));
  const err = await run(flow).then(() => undefined, (e: unknown) => e);
  assert(isDataflowError(err));
  assertInstanceOf(err, Error);
  assertEquals([err.name, err.stepId, err.key, err.partition], [
    "DataflowError",
    "test_df.pipe_1",
    undefined,
    undefined,
  ]);
  assertStrictEquals(err.cause, boom);
  assert(!isDataflowError(boom));
});

Deno.test("each kind of step names itself in the error", async () => {
  const boom = new Error("boom");
  const fail = (): never => {
    throw boom;
  };
  const cases: [string, (flow: Dataflow) => void, string, string | undefined][] = [
    [
      "rx",
      (f) =>
        f.input("inp", new TestingSource([1])).pipe(map(fail)).output("out", new TestingSink([])),
      "test_df.pipe_1",
      undefined,
    ],
    [
      "chain",
      (f) =>
        f.input("inp", new TestingSource([1])).pipe(keyOn("key", fail)).output(
          "out",
          new TestingSink([]),
        ),
      "test_df.key",
      undefined,
    ],
    [
      "keyed",
      (f) =>
        f.input("inp", new TestingSource([1])).pipe(keyOn("key", String), mapValue("val", fail))
          .output("out", new TestingSink([])),
      "test_df.val",
      "1",
    ],
    [
      "node",
      (f) =>
        f.input("inp", new TestingSource([1])).pipe(flatMapBatch("batch", fail)).output(
          "out",
          new TestingSink([]),
        ),
      "test_df.batch",
      undefined,
    ],
    [
      "async",
      (f) =>
        f.input("inp", new TestingSource([1])).pipe(mapAsync("fetch", () => Promise.reject(boom)))
          .output("out", new TestingSink([])),
      "test_df.fetch",
      undefined,
    ],
  ];
  for (const [kind, define, stepId, key] of cases) {
    const flow = new Dataflow("test_df");
    define(flow);
    const err = await assertRejects(() => runMain(flow), DataflowError, undefined, kind);
    assertEquals([kind, err.stepId, err.key], [kind, stepId, key]);
    assertStrictEquals(err.cause, boom, kind);
  }
});

Deno.test("a source failure names the input step and the partition", async () => {
  const boom = new Error("disk gone");
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p0"],
    buildPart: () => ({
      nextBatch: () => {
        throw boom;
      },
      snapshot: () => 0,
    }),
  };
  const flow = new Dataflow("test_df");
  flow.input("inp", source).output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.inp" on partition "p0": Failed to read the next batch: disk gone',
  );
  assertEquals([err.stepId, err.partition, err.key], ["test_df.inp", "p0", undefined]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("a sink failure names the output step", async () => {
  const boom = new Error("disk full");
  const sink: DynamicSink<number> = {
    build: () => ({
      writeBatch: () => {
        throw boom;
      },
    }),
  };
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1])).output("out", sink);
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.out": Failed to write a batch: disk full',
  );
  assertEquals(err.stepId, "test_df.out");
  assertStrictEquals(err.cause, boom);
});

Deno.test("a DataflowError thrown by user code is passed through unchanged", async () => {
  const own = new DataflowError("elsewhere.step", "Custom failure", { key: "k7" });
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1])).pipe(map(() => {
    throw own;
  })).output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertStrictEquals(err, own);
  assertEquals(err.message, 'Step "elsewhere.step" for key "k7": Custom failure');
});

Deno.test("non-Error values thrown are kept as the cause and shown in the message", async () => {
  for (
    const [thrown, shown] of [["a string", "a string"], [{ code: 42 }, '{"code":42}'], [7, "7"]]
  ) {
    const flow = new Dataflow("test_df");
    flow.input("inp", new TestingSource([1])).pipe(map(() => {
      throw thrown;
    })).output("out", new TestingSink([]));
    const err = await assertRejects(
      () => runMain(flow),
      DataflowError,
      `Step "test_df.pipe_1" failed: ${shown}`,
    );
    assertStrictEquals(err.cause, thrown);
  }
});

Deno.test("the first failure is the one reported", async () => {
  const first = new Error("first");
  const second = new Error("second");
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  s.pipe(map(() => {
    throw first;
  })).output("a", new TestingSink([]));
  s.pipe(map(() => {
    throw second;
  })).output("b", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow), DataflowError, "first");
  assertEquals(err.stepId, "test_df.pipe_1");
  assertStrictEquals(err.cause, first);
});

Deno.test("a flow that failed can run again with fresh operators", async () => {
  let failOn = 2;
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3])).pipe(map((x: number) => {
    if (x === failOn) throw new Error(`failed on ${x}`);
    return x;
  })).output("out", new TestingSink(out));
  await assertRejects(() => runMain(flow), DataflowError, "failed on 2");
  failOn = -1;
  assertEquals(await runMain(flow), { status: "eof", epoch: 1 });
  assertEquals(out, [1, 1, 2, 3]);
});
