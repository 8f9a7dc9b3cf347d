// The stateless operators on concrete values: Bytewax's cases (test_*.py in
// pytests/operators) plus empty input, errors with step ids and causes.
import { assertEquals, assertInstanceOf, assertStrictEquals, assertThrows } from "@std/assert";
import { filter, map } from "rxjs";
import {
  DataflowError,
  filterMap,
  filterMapValue,
  filterValue,
  flatMap,
  flatMapValue,
  flatten,
  keyOn,
  keyRm,
  mapValue,
  redistribute,
} from "../../mod.ts";
import { failure, through } from "./_util.ts";

Deno.test("map (RxJS) adds one", async () => {
  assertEquals(await through([0, 1, 2], [map((x: number) => x + 1)]), [1, 2, 3]);
});

Deno.test("filter (RxJS) keeps odd", async () => {
  assertEquals(await through([1, 2, 3], [filter((x: number) => x % 2 === 1)]), [1, 3]);
});

Deno.test("keyOn pairs items with a string key; a non-string key fails", async () => {
  assertEquals(await through([1, 2, 3], [keyOn("key", String)]), [["1", 1], ["2", 2], ["3", 3]]);
  assertEquals(await through([], [keyOn("key", String)]), []);
  const err = await failure([1], [keyOn("key", (x: number) => x as unknown as string)]);
  assertInstanceOf(err, DataflowError);
  assertEquals(err.stepId, "test_df.key");
  assertEquals(
    err.message,
    'Step "test_df.key": Key function must return a string, got number 1: Key of 1 is not a string',
  );
});

Deno.test("keyRm drops keys; a non-pair fails", async () => {
  assertEquals(await through([["a", 1], ["b", 2]], [keyRm("rm")]), [1, 2]);
  const err = await failure(["nope"], [keyRm("rm")]);
  assertEquals([
    err.stepId,
    err.message.includes('Expected a [key, value] pair with a string key, got "nope"'),
  ], [
    "test_df.rm",
    true,
  ]);
});

Deno.test("mapValue maps values; errors carry step, key and cause", async () => {
  assertEquals(
    await through([0, 1, 2], [keyOn("key", () => "ALL"), mapValue("inc", (v: number) => v + 1)]),
    [["ALL", 1], ["ALL", 2], ["ALL", 3]],
  );
  const boom = new Error("bad value");
  const err = await failure([["k1", 1], ["k2", 2]], [mapValue("m", (v: number) => {
    if (v === 2) throw boom;
    return v;
  })]);
  assertEquals([err.stepId, err.key, err.message], [
    "test_df.m",
    "k2",
    'Step "test_df.m" for key "k2" failed: bad value',
  ]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("filterValue keeps odd values; a non-boolean fails naming the key", async () => {
  assertEquals(
    await through([1, 2, 3], [
      keyOn("key", () => "ALL"),
      filterValue("odd", (v: number) => v % 2 === 1),
    ]),
    [["ALL", 1], ["ALL", 3]],
  );
  const err = await failure([["k", 1]], [filterValue("f", () => "yes" as unknown as boolean)]);
  assertEquals(
    err.message,
    'Step "test_df.f" for key "k": Predicate must return a boolean, got string: Predicate returned yes',
  );
});

Deno.test("filterMap drops undefined and null", async () => {
  const mapper = (x: number) => (x % 2 === 1 ? undefined : x + 1);
  assertEquals(await through([0, 1, 2, 3, 4, 5], [filterMap("fm", mapper)]), [1, 3, 5]);
  assertEquals(await through([1, 2], [filterMap("fm", (x: number) => (x === 1 ? null : x))]), [2]);
  assertEquals(await through([0], [filterMap("fm", () => 0)]), [0]);
});

Deno.test("filterMapValue drops undefined values", async () => {
  const mapper = (x: number) => (x % 2 === 1 ? undefined : x + 1);
  assertEquals(
    await through([0, 1, 2, 3, 4, 5], [keyOn("key", () => "ALL"), filterMapValue("fm", mapper)]),
    [["ALL", 1], ["ALL", 3], ["ALL", 5]],
  );
});

Deno.test("flatMap splits; generators work; a non-iterable result fails", async () => {
  assertEquals(await through(["split this"], [flatMap("split", (s: string) => s.split(" "))]), [
    "split",
    "this",
  ]);
  function* repeat([s, n]: [string, number]) {
    for (let i = 0; i < n; i++) yield s;
  }
  assertEquals(await through([["a", 2], ["b", 4]], [flatMap("rep", repeat)]), [
    "a",
    "a",
    "b",
    "b",
    "b",
    "b",
  ]);
  assertEquals(await through(["x"], [flatMap("none", () => [])]), []);
  const err = await failure([1], [flatMap("bad", () => 5 as unknown as number[])]);
  assertEquals([err.stepId, err.message], [
    "test_df.bad",
    'Step "test_df.bad": Mapper must return an iterable, got 5: 5 is not iterable',
  ]);
});

Deno.test("flatMapValue re-pairs each output with the key", async () => {
  assertEquals(
    await through([["a", "1 2"], ["b", ""]], [
      flatMapValue("split", (s: string) => s.split(" ").filter(Boolean)),
    ]),
    [["a", "1"], ["a", "2"]],
  );
  const err = await failure([3], [flatMapValue("f", () => [])]);
  assertEquals(err.message.includes("Expected a [key, value] pair"), true);
});

Deno.test("flatten flattens iterables and rejects non-iterables", async () => {
  assertEquals(await through([[1, 2], [], [3]], [flatten("flat")]), [1, 2, 3]);
  assertEquals(await through([new Set(["a", "b"])], [flatten("flat")]), ["a", "b"]);
  const err = await failure([666], [flatten("flat")]);
  assertEquals(err.stepId, "test_df.flat");
  assertEquals(err.message.includes("to be iterables"), true);
});

Deno.test("redistribute is the identity with one worker", async () => {
  assertEquals(await through([3, 1, 2], [redistribute("spread")]), [3, 1, 2]);
});

Deno.test("weir operators validate their arguments at definition time", () => {
  assertThrows(
    () => keyOn("k", 5 as unknown as (x: unknown) => string),
    TypeError,
    'keyOn("k") needs a key function, got a number',
  );
  assertThrows(
    () => mapValue("a.b", (v) => v),
    RangeError,
    'Step id "a.b" can\'t contain a period',
  );
  assertThrows(
    () => flatMap(7 as unknown as string, (x) => [x]),
    TypeError,
    "Step id must be a string, got a number",
  );
  // Applied outside a flow, a weir operator explains itself.
  assertThrows(
    () => keyOn("k", String)(null as never),
    TypeError,
    'keyOn("k") is a weir step: use it inside Stream.pipe() of a Dataflow',
  );
});
