// Plain RxJS operators as steps: synchronous ones work (including those that emit at EOF);
// asynchronous ones are refused loudly instead of losing items. Errors in plain operators are
// attributed to their own `pipe_N` step.
import { assertEquals, assertRejects, assertStrictEquals, assertStringIncludes } from "@std/assert";
import {
  asyncScheduler,
  bufferCount,
  bufferTime,
  count,
  delay,
  endWith,
  filter,
  last,
  map,
  mergeMap,
  observeOn,
  pairwise,
  reduce,
  scan,
  take,
  tap,
  toArray,
} from "rxjs";
import { Dataflow, DataflowError, keyOn } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

Deno.test("map adds one (Bytewax's test_map)", async () => {
  assertEquals(await through([0, 1, 2], [map((x: number) => x + 1)]), [1, 2, 3]);
});

Deno.test("filter keeps odd (Bytewax's test_filter)", async () => {
  assertEquals(await through([1, 2, 3], [filter((x: number) => x % 2 === 1)]), [1, 3]);
});

Deno.test("map and filter: empty input, and many items in batches", async () => {
  assertEquals(await through([], [map((x: number) => x + 1)]), []);
  const items = Array.from({ length: 1000 }, (_, i) => i);
  assertEquals(
    await through(items, [filter((x: number) => x % 3 === 0), map((x) => x / 3)], {
      batchSize: 37,
    }),
    Array.from({ length: 334 }, (_, i) => i),
  );
});

Deno.test("tap sees every item in order, before the next operator", async () => {
  const log: string[] = [];
  const out = await through([1, 2], [
    tap((x: number) => log.push(`tap${x}`)),
    map((x: number) => (log.push(`map${x}`), x)),
  ]);
  assertEquals(out, [1, 2]);
  assertEquals(log, ["tap1", "map1", "tap2", "map2"]);
});

Deno.test("scan keeps a running total within the run; a new run starts afresh", async () => {
  assertEquals(await through([1, 2, 3], [scan((acc: number, x: number) => acc + x, 0)]), [1, 3, 6]);
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2]))
    .pipe(scan((acc: number, x: number) => acc + x, 0))
    .output("out", new TestingSink(out));
  await runMain(flow);
  await runMain(flow);
  assertEquals(out, [1, 3, 1, 3]);
});

Deno.test("toArray, reduce, count, last and bufferCount emit at EOF", async () => {
  assertEquals(await through([1, 2, 3], [toArray()]), [[1, 2, 3]]);
  assertEquals(await through([1, 2, 3], [reduce((a: number, b: number) => a + b, 10)]), [16]);
  assertEquals(await through([1, 2, 3], [count()]), [3]);
  assertEquals(await through([1, 2, 3], [last()]), [3]);
  assertEquals(await through([1, 2, 3], [bufferCount(2)]), [[1, 2], [3]]);
  assertEquals(await through([1, 2], [endWith(99)]), [1, 2, 99]);
});

Deno.test("at EOF on empty input: toArray gives [], a seeded reduce its seed", async () => {
  assertEquals(await through([], [toArray()]), [[]]);
  assertEquals(await through([], [reduce((a: number, b: number) => a + b, 10)]), [10]);
  assertEquals(await through([], [reduce((a: number, b: number) => a + b)]), []);
});

Deno.test("an EOF marker ends the run there: toArray holds the items before it", async () => {
  assertEquals(await through([1, 2, TestingSource.EOF(), 3], [toArray()]), [[1, 2]]);
});

Deno.test("pairwise keeps state across batches", async () => {
  assertEquals(await through([1, 2, 3, 4], [pairwise()], { batchSize: 3 }), [[1, 2], [2, 3], [
    3,
    4,
  ]]);
});

Deno.test("take completes its stream early; the rest of the flow still finishes", async () => {
  const seen: number[] = [];
  assertEquals(await through([1, 2, 3, 4], [tap((x: number) => seen.push(x)), take(2)]), [1, 2]);
  assertEquals(seen, [1, 2, 3, 4]);
});

Deno.test("take on one branch of a fan-out leaves the other branch whole", async () => {
  const firstTwo: number[] = [];
  const all: number[] = [];
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1, 2, 3, 4]));
  s.pipe(take(2), toArray(), mergeMap((xs: number[]) => xs)).output(
    "first",
    new TestingSink(firstTwo),
  );
  s.output("all", new TestingSink(all));
  assertEquals(await runMain(flow), { status: "eof", epoch: 1 });
  assertEquals([firstTwo, all], [[1, 2], [1, 2, 3, 4]]);
});

Deno.test("mergeMap over synchronous arrays is a valid step", async () => {
  assertEquals(await through(["a b", "c"], [mergeMap((s: string) => s.split(" "))]), [
    "a",
    "b",
    "c",
  ]);
});

Deno.test("a chain mixing RxJS and weir operators runs in order", async () => {
  assertEquals(
    await through([1, 2, 3, 4], [
      filter((x: number) => x > 1),
      map((x) => x * 2),
      keyOn("k", String),
    ]),
    [["4", 4], ["6", 6], ["8", 8]],
  );
});

Deno.test("delay is refused: the run fails and points at mapAsync", async () => {
  const err = await assertRejects(
    () => through([1, 2], [delay(1)]),
    DataflowError,
    "use mapAsync",
  );
  assertEquals(err.stepId, "test_df.pipe_1");
});

Deno.test("delay holding items at EOF fails with 'Did not finish at EOF'", async () => {
  const err = await assertRejects(
    () => through([1], [delay(60_000)]),
    DataflowError,
    'Step "test_df.pipe_1": Did not finish at EOF: an asynchronous RxJS operator',
  );
  assertStringIncludes(err.message, "such operators are not valid steps, use mapAsync");
});

Deno.test("observeOn(asyncScheduler) is refused too", async () => {
  await assertRejects(
    () => through([1, 2], [observeOn(asyncScheduler)]),
    DataflowError,
    "use mapAsync",
  );
});

Deno.test("mergeMap over promises is refused when it emits between activations", async () => {
  // The pause keeps the run going (on the wall clock) while the promise settles.
  const err = await assertRejects(
    () =>
      through(
        [1, TestingSource.PAUSE(30), 2],
        [mergeMap((x: number) => new Promise<number>((r) => setTimeout(() => r(x), 1)))],
      ),
    DataflowError,
    'Step "test_df.pipe_1": Emitted an item outside an activation; asynchronous RxJS operators',
  );
  assertStringIncludes(err.message, "use mapAsync instead");
});

Deno.test("bufferTime is refused once its timer fires during the run", async () => {
  const err = await assertRejects(
    () => through([1, TestingSource.PAUSE(30), 2], [bufferTime(5)]),
    DataflowError,
    "use mapAsync instead",
  );
  assertEquals(err.stepId, "test_df.pipe_1");
});

Deno.test("a plain map throwing before a weir step is attributed to its pipe step", async () => {
  const boom = new Error("boom");
  const err = await assertRejects(
    () =>
      through([1, 2], [
        map((x: number) => {
          if (x === 2) throw boom;
          return x;
        }),
        keyOn("k", String),
      ]),
    DataflowError,
    'Step "test_df.pipe_1" failed: boom',
  );
  assertEquals(err.stepId, "test_df.pipe_1");
  assertStrictEquals(err.cause, boom);
});

Deno.test("a throwing key function is attributed to the keyOn step", async () => {
  const boom = new Error("boom");
  const err = await assertRejects(
    () =>
      through([1], [keyOn("k", () => {
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.k" failed: boom',
  );
  assertEquals(err.stepId, "test_df.k");
  assertStrictEquals(err.cause, boom);
});

Deno.test("a plain map after a weir step is its own pipe step", async () => {
  const boom = new Error("boom");
  const err = await assertRejects(
    () =>
      through([1, 2], [
        keyOn("k", String),
        map(([, v]: [string, number]) => {
          if (v === 2) throw boom;
          return v;
        }),
      ]),
    DataflowError,
    'Step "test_df.pipe_1" failed: boom',
  );
  assertStrictEquals(err.cause, boom);
});

Deno.test("two consecutive pipe() calls of plain operators keep their own ids", async () => {
  const boom = new Error("boom");
  const throws = map((x: number) => {
    if (x === 2) throw boom;
    return x;
  });
  const build = (first: typeof throws, second: typeof throws) => {
    const flow = new Dataflow("test_df");
    flow.input("inp", new TestingSource([1, 2]))
      .pipe(first)
      .pipe(second)
      .output("out", new TestingSink([]));
    return flow;
  };
  const inSecond = build(map((x: number) => x), throws);
  assertEquals(inSecond.steps.map((s) => s.id), [
    "test_df.inp",
    "test_df.pipe_1",
    "test_df.pipe_2",
    "test_df.out",
  ]);
  const err2 = await assertRejects(() => runMain(inSecond), DataflowError);
  assertEquals(err2.stepId, "test_df.pipe_2");
  assertStrictEquals(err2.cause, boom);
  const err1 = await assertRejects(
    () => runMain(build(throws, map((x: number) => x))),
    DataflowError,
  );
  assertEquals(err1.stepId, "test_df.pipe_1");
  assertStrictEquals(err1.cause, boom);
});

Deno.test("a non-Error thrown by a plain operator is kept as the cause", async () => {
  const err = await assertRejects(
    () =>
      through([1], [map(() => {
        throw "plain string";
      })]),
    DataflowError,
    'Step "test_df.pipe_1" failed: plain string',
  );
  assertStrictEquals(err.cause, "plain string");
});
