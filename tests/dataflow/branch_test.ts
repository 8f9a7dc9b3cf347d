// Stream.branch: Bytewax's test_branch.py plus type narrowing, EOF on both sides, errors.
import { assertEquals, assertRejects, assertStrictEquals, assertThrows } from "@std/assert";
import { map, toArray } from "rxjs";
import { Dataflow, DataflowError, keyOn, type Stream } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** Exact type equality: resolves to true only when A and B are the same type. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_proof: T): void {}

Deno.test("branch: odd to trues, even to falses (Bytewax's case)", async () => {
  const trues: number[] = [];
  const falses: number[] = [];
  const flow = new Dataflow("test_df");
  const b = flow.input("inp", new TestingSource([1, 2, 3])).branch("odd", (x) => x % 2 === 1);
  b.trues.output("t", new TestingSink(trues));
  b.falses.output("f", new TestingSink(falses));
  await runMain(flow);
  assertEquals([trues, falses], [[1, 3], [2]]);
  assertEquals(
    flow.steps.filter((s) => s.kind === "branch").map((s) => [s.id, s.ups, s.downs]),
    [["test_df.odd", ["test_df.inp.down"], ["test_df.odd.trues", "test_df.odd.falses"]]],
  );
});

Deno.test("branch: a type guard splits numbers from strings and narrows both sides (Bytewax's case)", async () => {
  const nums: number[] = [];
  const strs: string[] = [];
  const flow = new Dataflow("test_df");
  const { trues, falses } = flow.input("inp", new TestingSource<number | string>([1, "a", 2, "b"]))
    .branch("is_int", (x): x is number => typeof x === "number");
  // Compile-time: both sides have exactly the narrowed types, so no casts are needed
  // (`toFixed` and `toUpperCase` only type-check on the narrowed items).
  expectType<Equals<typeof trues, Stream<number>>>(true);
  expectType<Equals<typeof falses, Stream<string>>>(true);
  const numbers: Stream<number> = trues;
  const strings: Stream<string> = falses;
  // @ts-expect-error the trues are numbers, not strings
  const _wrong: Stream<string> = trues;
  numbers.pipe(map((n) => Number(n.toFixed(0)))).output("nums", new TestingSink(nums));
  strings.pipe(map((s) => s.toUpperCase())).output("strs", new TestingSink(strs));
  await runMain(flow);
  assertEquals([nums, strs], [[1, 2], ["A", "B"]]);
});

Deno.test("branch: a non-boolean predicate result fails naming the branch (Bytewax's case)", async () => {
  const flow = new Dataflow("test_df");
  const { trues } = flow.input("inp", new TestingSource([1]))
    .branch("bad", () => "yes" as unknown as boolean);
  trues.output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.bad": Predicate must return a boolean, got string',
  );
  assertEquals(
    err.message,
    'Step "test_df.bad": Predicate must return a boolean, got string: Predicate returned yes',
  );
  assertEquals(err.stepId, "test_df.bad");
  assertEquals((err.cause as Error).name, "TypeError");
});

Deno.test("branch: truthy non-booleans and null are refused too", async () => {
  for (const [result, type] of [[1, "number"], [null, "null"], [undefined, "undefined"]]) {
    const flow = new Dataflow("test_df");
    flow.input("inp", new TestingSource([1]))
      .branch("bad", () => result as unknown as boolean)
      .trues.output("out", new TestingSink([]));
    await assertRejects(
      () => runMain(flow),
      DataflowError,
      `Step "test_df.bad": Predicate must return a boolean, got ${type}`,
    );
  }
});

Deno.test("branch: a throwing predicate fails naming the branch, with the cause", async () => {
  const boom = new Error("cannot decide");
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1]))
    .branch("pick", () => {
      throw boom;
    })
    .falses.output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.pick": Predicate failed: cannot decide',
  );
  assertEquals(err.stepId, "test_df.pick");
  assertStrictEquals(err.cause, boom);
});

Deno.test("branch: 100 000 items in batches of 10 keep their order on both sides (Bytewax's benchmark)", async () => {
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

Deno.test("branch: empty input ends both sides (EOF reaches toArray on each)", async () => {
  const out: number[][] = [];
  const flow = new Dataflow("test_df");
  const { trues, falses } = flow.input("inp", new TestingSource<number>([]))
    .branch("b", (x) => x > 0);
  trues.pipe(toArray()).output("t", new TestingSink(out));
  falses.pipe(toArray()).output("f", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [[], []]);
});

Deno.test("branch: all items on one side; the unused side needs no consumer", async () => {
  const out: number[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3]))
    .branch("all", () => true)
    .trues.output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [1, 2, 3]);
});

Deno.test("branch: branches nest and feed further steps", async () => {
  const small: string[] = [];
  const mid: string[] = [];
  const big: string[] = [];
  const flow = new Dataflow("test_df");
  const first = flow.input("inp", new TestingSource([1, 50, 500, 5]))
    .branch("small", (x) => x < 10);
  first.trues.pipe(map((x: number) => `s${x}`)).output("small_out", new TestingSink(small));
  const second = first.falses.branch("mid", (x) => x < 100);
  second.trues.pipe(keyOn("k", String), map(([k]) => `m${k}`)).output(
    "mid_out",
    new TestingSink(mid),
  );
  second.falses.pipe(map((x: number) => `b${x}`)).output("big_out", new TestingSink(big));
  await runMain(flow);
  assertEquals([small, mid, big], [["s1", "s5"], ["m50"], ["b500"]]);
});

Deno.test("branch validates its arguments at definition time", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource([1]));
  assertThrows(
    () => s.branch("b", 5 as never),
    TypeError,
    'Branch "test_df.b" needs a predicate function, got a number',
  );
  assertThrows(
    () => s.branch("a.b", () => true),
    RangeError,
    `Step id "a.b" can't contain a period`,
  );
  s.branch("twice", () => true);
  assertThrows(
    () => s.branch("twice", () => true),
    RangeError,
    'Step "test_df.twice" already exists',
  );
});
