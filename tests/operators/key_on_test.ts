// keyOn: Bytewax's test_key_on.py plus empty input, many items, callback errors and
// definition-time checks.
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { Dataflow, DataflowError, keyOn } from "../../mod.ts";
import { runMain, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { through } from "./_util.ts";

Deno.test("keyOn pairs each item with its string key (Bytewax's case)", async () => {
  assertEquals(await through([1, 2, 3], [keyOn("key", String)]), [["1", 1], ["2", 2], ["3", 3]]);
});

Deno.test("keyOn: empty input gives no output", async () => {
  assertEquals(await through([], [keyOn("key", String)]), []);
});

Deno.test("keyOn: one item", async () => {
  assertEquals(await through([{ id: "u1" }], [keyOn("key", (u: { id: string }) => u.id)]), [
    ["u1", { id: "u1" }],
  ]);
});

Deno.test("keyOn: many items in batches keep their order; the empty string is a key", async () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const out = await through<[string, number]>(items, [
    keyOn("key", (x: number) => (x % 3 === 0 ? "" : `k${x % 3}`)),
  ], { batchSize: 7 });
  assertEquals(out, items.map((x) => [x % 3 === 0 ? "" : `k${x % 3}`, x]));
});

Deno.test("keyOn: a non-string key fails the run naming the step", async () => {
  const err = await assertRejects(
    () => through([1], [keyOn("key", (x: number) => x as unknown as string)]),
    DataflowError,
    'Step "test_df.key": Key function must return a string, got number 1',
  );
  assertEquals(
    err.message,
    'Step "test_df.key": Key function must return a string, got number 1: Key of 1 is not a string',
  );
  assertEquals([err.stepId, err.key, err.partition], ["test_df.key", undefined, undefined]);
  assertInstanceOf(err.cause, TypeError);
  assertEquals(err.cause.message, "Key of 1 is not a string");
});

Deno.test("keyOn: an undefined key is refused too", async () => {
  await assertRejects(
    () => through(["a"], [keyOn("key", () => undefined as unknown as string)]),
    DataflowError,
    'Step "test_df.key": Key function must return a string, got undefined',
  );
});

Deno.test("keyOn: a throwing key function fails the run with the error as cause", async () => {
  const boom = new Error("no key");
  const out: unknown[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource([1, 2, 3]))
    .pipe(keyOn("key", (x: number) => {
      if (x === 2) throw boom;
      return String(x);
    }))
    .output("out", new TestingSink(out));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "test_df.key" failed: no key',
  );
  assertEquals(err.stepId, "test_df.key");
  assertStrictEquals(err.cause, boom);
  // The item before the failure was written; the failing one and those after it were not.
  assertEquals(out, [["1", 1]]);
});

Deno.test("keyOn validates its arguments at definition time", () => {
  assertThrows(
    () => keyOn("k", 5 as unknown as (x: unknown) => string),
    TypeError,
    'keyOn("k") needs a key function, got a number',
  );
  assertThrows(
    () => keyOn("a.b", String),
    RangeError,
    `Step id "a.b" can't contain a period`,
  );
  assertThrows(
    () => keyOn(1 as unknown as string, String),
    TypeError,
    "Step id must be a string, got a number",
  );
  assertThrows(
    () => keyOn("k", String)(null as never),
    TypeError,
    'keyOn("k") is a weir step: use it inside Stream.pipe() of a Dataflow',
  );
});
