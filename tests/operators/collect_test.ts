import { assertEquals, assertThrows } from "@std/assert";
import { Dataflow, keyOn } from "../../mod.ts";
import { collect } from "../../src/operators/collect.ts";
import {
  runMain,
  TestClock,
  type TestingMarker,
  TestingSink,
  TestingSource,
} from "../../src/testing/mod.ts";

async function collected(
  items: Array<[string, number] | TestingMarker>,
  timeout: number,
  maxSize: number,
  batchSize = 1,
): Promise<[string, number[]][]> {
  const out: [string, number[]][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(items, { batchSize }))
    .pipe(collect("collect", { timeout, maxSize }))
    .output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  return out;
}

Deno.test("collect: by size, the remainder at EOF (Bytewax's case)", async () => {
  const out: [string, number[]][] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(Array.from({ length: 10 }, (_, i) => i)))
    .pipe(keyOn("key", () => "ALL"), collect("collect", { timeout: 10_000, maxSize: 3 }))
    .output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["ALL", [0, 1, 2]], ["ALL", [3, 4, 5]], ["ALL", [6, 7, 8]], ["ALL", [9]]]);
});

Deno.test("collect: the timeout is re-armed by each item", async () => {
  // a@0, a@6s (deadline moves to 16s), pause to 26s: the timer at 16s emits [1, 2].
  const out = await collected(
    [["a", 1], TestingSource.PAUSE(6_000), ["a", 2], TestingSource.PAUSE(20_000), ["a", 3]],
    10_000,
    100,
  );
  assertEquals(out, [["a", [1, 2]], ["a", [3]]]);
});

Deno.test("collect: keys time out independently; size and timeout interleave", async () => {
  const out = await collected(
    [
      ["a", 1],
      ["b", 1],
      ["a", 2],
      TestingSource.PAUSE(5_000),
      ["b", 2],
      ["b", 3], // b reaches maxSize 3
      TestingSource.PAUSE(20_000),
      ["a", 9],
    ],
    8_000,
    3,
  );
  assertEquals(out, [["b", [1, 2, 3]], ["a", [1, 2]], ["a", [9]]]);
});

Deno.test("collect: empty input emits nothing; one item is flushed at EOF", async () => {
  assertEquals(await collected([], 1_000, 2), []);
  assertEquals(await collected([["k", 7]], 1_000, 2), [["k", [7]]]);
});

Deno.test("collect: several values of a key in one activation", async () => {
  assertEquals(
    await collected([["k", 1], ["k", 2], ["k", 3], ["k", 4], ["j", 5]], 1_000, 2, 5),
    [["k", [1, 2]], ["k", [3, 4]], ["j", [5]]],
  );
});

Deno.test("collect: options are validated at definition time", () => {
  assertThrows(
    () => collect("c", { timeout: -1, maxSize: 3 }),
    RangeError,
    "timeout >= 0 ms, got -1",
  );
  assertThrows(
    () => collect("c", { timeout: 1, maxSize: 0 }),
    RangeError,
    "positive integer maxSize, got 0",
  );
});
