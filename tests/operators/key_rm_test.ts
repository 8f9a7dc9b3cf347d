// keyRm: drops the key of [key, value] pairs.
import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import { DataflowError, keyOn, keyRm, mapValue } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("keyRm drops keys", async () => {
  assertEquals(await through([["a", 1], ["b", 2]], [keyRm("rm")]), [1, 2]);
});

Deno.test("keyRm: empty input gives no output", async () => {
  assertEquals(await through([], [keyRm("rm")]), []);
});

Deno.test("keyRm: one item whose value is itself a pair", async () => {
  assertEquals(await through([["k", ["x", 1]]], [keyRm("rm")]), [["x", 1]]);
});

Deno.test("keyRm undoes keyOn after keyed steps, for many items", async () => {
  const items = Array.from({ length: 500 }, (_, i) => i);
  const out = await through(items, [
    keyOn("key", (x: number) => `k${x % 5}`),
    mapValue("double", (v: number) => v * 2),
    keyRm("rm"),
  ], { batchSize: 16 });
  assertEquals(out, items.map((x) => x * 2));
});

Deno.test("keyRm: a non-pair item fails the run naming the step", async () => {
  const err = await assertRejects(
    () => through(["nope"], [keyRm("rm")]),
    DataflowError,
    'Step "test_df.rm": Expected a [key, value] pair with a string key, got "nope"',
  );
  assertEquals(
    err.message,
    'Step "test_df.rm": Expected a [key, value] pair with a string key, got "nope": ' +
      "Keyed steps need [string, value] pairs; use keyOn first",
  );
  assertEquals([err.stepId, err.key], ["test_df.rm", undefined]);
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("keyRm: a pair with a non-string key, or a triple, is not a keyed item", async () => {
  await assertRejects(
    () => through([[1, "a"]], [keyRm("rm")]),
    DataflowError,
    'Expected a [key, value] pair with a string key, got [1,"a"]',
  );
  await assertRejects(
    () => through([["a", 1, 2]], [keyRm("rm")]),
    DataflowError,
    'Expected a [key, value] pair with a string key, got ["a",1,2]',
  );
});

Deno.test("keyRm validates its step id", () => {
  assertThrows(() => keyRm("r.m"), RangeError, `Step id "r.m" can't contain a period`);
  assertThrows(() => keyRm(""), RangeError, "Step id must not be empty");
});
