// redistribute: the identity with one worker.
import { assertEquals, assertThrows } from "@std/assert";
import { keyOn, redistribute } from "../../mod.ts";
import { through } from "./_util.ts";

Deno.test("redistribute passes items unchanged, in order, with one worker", async () => {
  assertEquals(await through([3, 1, 2], [redistribute("spread")]), [3, 1, 2]);
});

Deno.test("redistribute: empty input gives no output", async () => {
  assertEquals(await through([], [redistribute("spread")]), []);
});

Deno.test("redistribute: many items, keyed pairs untouched", async () => {
  const items = Array.from({ length: 300 }, (_, i) => i);
  assertEquals(
    await through(items, [keyOn("key", String), redistribute("spread")], { batchSize: 13 }),
    items.map((x) => [String(x), x]),
  );
});

Deno.test("redistribute validates its step id", () => {
  assertThrows(() => redistribute("a.b"), RangeError, `Step id "a.b" can't contain a period`);
});
