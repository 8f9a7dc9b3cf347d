// flatMapValue: re-pairs each output with the item's key.
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { DataflowError, flatMapValue, keyOn } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("flatMapValue re-pairs each output with the key; an empty result drops the item", async () => {
  assertEquals(
    await through([["a", "1 2"], ["b", ""], ["c", "3"]], [
      flatMapValue("split", (s: string) => s.split(" ").filter(Boolean)),
    ]),
    [["a", "1"], ["a", "2"], ["c", "3"]],
  );
});

Deno.test("flatMapValue takes a generator", async () => {
  function* upTo(n: number) {
    for (let i = 1; i <= n; i++) yield i;
  }
  assertEquals(
    await through([3, 1], [keyOn("key", (n: number) => `n${n}`), flatMapValue("up", upTo)]),
    [["n3", 1], ["n3", 2], ["n3", 3], ["n1", 1]],
  );
});

Deno.test("flatMapValue: empty input gives no output", async () => {
  assertEquals(await through([], [flatMapValue("f", (v: number) => [v])]), []);
});

Deno.test("flatMapValue: a non-pair item fails the run", async () => {
  const err = await assertRejects(
    () => through([3], [flatMapValue("f", () => [])]),
    DataflowError,
    'Step "test_df.f": Expected a [key, value] pair with a string key, got 3',
  );
  assertEquals(err.stepId, "test_df.f");
});

Deno.test("flatMapValue: a non-iterable result fails naming step and key", async () => {
  const err = await assertRejects(
    () => through([["k", 1]], [flatMapValue("f", () => 5 as unknown as number[])]),
    DataflowError,
    'Step "test_df.f" for key "k": Mapper must return an iterable, got 5',
  );
  assertEquals([err.stepId, err.key], ["test_df.f", "k"]);
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("flatMapValue: a throwing mapper or generator fails with step, key and cause", async () => {
  const boom = new Error("boom");
  const err = await assertRejects(
    () =>
      through([["a", 1], ["b", 2]], [flatMapValue("f", (v: number) => {
        if (v === 2) throw boom;
        return [v];
      })]),
    DataflowError,
    'Step "test_df.f" for key "b" failed: boom',
  );
  assertEquals([err.stepId, err.key], ["test_df.f", "b"]);
  assertStrictEquals(err.cause, boom);
  // A generator's body runs while its results are iterated: still the same key.
  const lazy = await assertRejects(
    () =>
      through([["g", 1]], [flatMapValue("gen", function* (v: number) {
        yield v;
        throw boom;
      })]),
    DataflowError,
    'Step "test_df.gen" for key "g" failed: boom',
  );
  assertEquals(lazy.key, "g");
  assertStrictEquals(lazy.cause, boom);
});

Deno.test("flatMapValue validates its mapper at definition time", () => {
  assertThrows(
    () => flatMapValue("f", 1 as never),
    TypeError,
    'flatMapValue("f") needs a mapper function, got a number',
  );
});
