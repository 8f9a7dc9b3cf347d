import { assertEquals, assertThrows } from "@std/assert";
import { Dataflow, keyOn, keyRm, type Stream } from "../../mod.ts";
import {
  join,
  type JoinEmitMode,
  type JoinInsertMode,
  type JoinOptions,
  joinTuples,
} from "../../src/operators/join.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";

async function joined(
  sides: number[][],
  insertMode?: JoinInsertMode,
  emitMode?: JoinEmitMode,
): Promise<unknown[]> {
  const out: unknown[] = [];
  const flow = new Dataflow("test_df");
  const streams = sides.map((items, i) =>
    flow.input(`inp${i}`, new TestingSource(items)).pipe(keyOn(`key${i}`, () => "ALL"))
  );
  join("join", streams as Stream<[string, number]>[], { insertMode, emitMode })
    .pipe(keyRm("unkey"))
    .output("out", new TestingSink(out));
  await runMain(flow);
  return out;
}

Deno.test("joinTuples: the cross product with undefined for missing sides (Bytewax's unit case)", () => {
  assertEquals(joinTuples([[1, 2], [], [3, 4]]), [
    [1, undefined, 3],
    [1, undefined, 4],
    [2, undefined, 3],
    [2, undefined, 4],
  ]);
});

Deno.test("join last/complete (the default)", async () => {
  assertEquals(await joined([[1], [2]], "last", "complete"), [[1, 2]]);
  assertEquals(await joined([[1], [2]]), [[1, 2]]);
});

Deno.test("join first/final", async () => {
  assertEquals(await joined([[1], [2, 3]], "first", "final"), [[1, 2]]);
});

Deno.test("join last/final", async () => {
  assertEquals(await joined([[1], [2, 3]], "last", "final"), [[1, 3]]);
});

Deno.test("join last/running", async () => {
  assertEquals(await joined([[1], [2, 3]], "last", "running"), [[1, undefined], [1, 2], [1, 3]]);
});

Deno.test("join product/final", async () => {
  assertEquals(await joined([[1, 2], [3, 4]], "product", "final"), [[1, 3], [1, 4], [2, 3], [
    2,
    4,
  ]]);
});

Deno.test("join complete clears the key: a later pair joins again", async () => {
  assertEquals(await joined([[1, 10], [2, 20]], "last", "complete"), [[1, 2], [10, 20]]);
});

Deno.test("join on three sides: complete, final with a missing side, running", async () => {
  assertEquals(await joined([[1], [2], [3]], "last", "complete"), [[1, 2, 3]]);
  assertEquals(await joined([[1], [], [3]], "last", "final"), [[1, undefined, 3]]);
  assertEquals(await joined([[1], [2], [3]], "first", "running"), [
    [1, undefined, undefined],
    [1, 2, undefined],
    [1, 2, 3],
  ]);
  assertEquals(await joined([[1], [2], []], "last", "complete"), []);
});

Deno.test("join on three sides: product/final, product/complete, first/final, last/running", async () => {
  // Product on three sides: every combination, in side order.
  assertEquals(await joined([[1, 2], [3], [4, 5]], "product", "final"), [
    [1, 3, 4],
    [1, 3, 5],
    [2, 3, 4],
    [2, 3, 5],
  ]);
  // Activation 1 reads 1, 3, 4 (one item per input): complete at once, state cleared; then 2
  // alone is never completed.
  assertEquals(await joined([[1, 2], [3], [4]], "product", "complete"), [[1, 3, 4]]);
  assertEquals(await joined([[1, 2], [3, 4], [5, 6]], "first", "final"), [[1, 3, 5]]);
  assertEquals(await joined([[1], [2], [3, 4]], "last", "running"), [
    [1, undefined, undefined],
    [1, 2, undefined],
    [1, 2, 3],
    [1, 2, 4],
  ]);
});

Deno.test("join keeps keys apart and names its substeps", async () => {
  const out: [string, [string | undefined, number | undefined]][] = [];
  const flow = new Dataflow("people");
  const names = flow.input(
    "names",
    new TestingSource<[string, string]>([["1", "ann"], ["2", "bob"]]),
  );
  const ages = flow.input(
    "ages",
    new TestingSource<[string, number]>([["2", 41], ["3", 9], ["1", 37]]),
  );
  join("join", [names, ages]).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["2", ["bob", 41]], ["1", ["ann", 37]]]);
  assertEquals(flow.steps.map((s) => s.id).slice(2, 7), [
    "people.join",
    "people.join.side_0",
    "people.join.side_1",
    "people.join.merge",
    "people.join.join",
  ]);
});

Deno.test("join rejects unknown modes and an empty side list", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource<[string, number]>([]));
  assertThrows(
    () => join("j", [s], { insertMode: "middle" as JoinInsertMode }),
    RangeError,
    'unknown join insert mode "middle"',
  );
  assertThrows(
    () => join("j2", [s], { emitMode: "sometimes" as JoinEmitMode }),
    RangeError,
    'unknown join emit mode "sometimes"',
  );
  assertThrows(() => join("j3", []), TypeError, "at least one keyed stream");
});

Deno.test("join: something that is not a Stream where a side is expected is a TypeError that says so", () => {
  const flow = new Dataflow("f");
  const a = flow.input("a", new TestingSource<[string, number]>([]));
  const b = flow.input("b", new TestingSource<[string, number]>([]));
  const split = b.branch("split", ([, v]) => v > 0);
  const other = new Dataflow("g").input("c", new TestingSource<[string, number]>([]));
  const sides = (...s: unknown[]) => s as Stream<[string, number]>[];
  const hint = "; did you forget to destructure the result of an operator that returns several " +
    "streams, like branch?";
  assertThrows(
    () => join("j", sides(a, undefined)),
    TypeError,
    `join("j"): sides[1] must be a Stream, got undefined${hint}`,
  );
  assertThrows(
    () => join("j", sides(a, split)),
    TypeError,
    'join("j"): sides[1] must be a Stream, got an object holding the streams trues, falses; ' +
      "pass one of them, e.g. .trues",
  );
  assertThrows(
    () => join("j", sides(a, 3)),
    TypeError,
    'join("j"): sides[1] must be a Stream, got a number',
  );
  assertThrows(
    () => join("j", sides(a, other)),
    TypeError,
    'join("j"): sides[1] is stream "g.c.down" of dataflow "g", not of "f" like the first',
  );
  // Bytewax passes the sides as separate arguments.
  assertThrows(
    () => join("j", a as unknown as Stream<[string, number]>[]),
    TypeError,
    'join("j"): sides must be an array of streams, got a Stream; pass the sides in one array, ' +
      'e.g. join("j", [left, right], options)',
  );
  assertThrows(
    () => join("j", [a], b as unknown as JoinOptions),
    TypeError,
    'join("j"): options must be an options object, got a Stream; pass every side in the ' +
      'array, e.g. join("j", [left, right], options)',
  );
});
