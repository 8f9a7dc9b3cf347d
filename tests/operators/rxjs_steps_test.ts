// Plain RxJS operators as steps: synchronous ones work (including those that emit at EOF);
// asynchronous ones are refused loudly instead of losing items.
import { assertEquals, assertStringIncludes } from "@std/assert";
import {
  bufferCount,
  bufferTime,
  delay,
  filter,
  map,
  mergeMap,
  reduce,
  scan,
  take,
  tap,
  toArray,
} from "rxjs";
import { keyOn } from "../../mod.ts";
import { TestingSource } from "../../src/testing/mod.ts";
import { failure, through } from "./_util.ts";

Deno.test("scan keeps a running total within the run", async () => {
  assertEquals(await through([1, 2, 3], [scan((acc: number, x: number) => acc + x, 0)]), [1, 3, 6]);
});

Deno.test("toArray, reduce and bufferCount emit at EOF", async () => {
  assertEquals(await through([1, 2, 3], [toArray()]), [[1, 2, 3]]);
  assertEquals(await through([1, 2, 3], [reduce((a: number, b: number) => a + b, 10)]), [16]);
  assertEquals(await through([1, 2, 3], [bufferCount(2)]), [[1, 2], [3]]);
  assertEquals(await through([], [toArray()]), [[]]);
});

Deno.test("take completes its stream early; the rest of the flow still finishes", async () => {
  const seen: number[] = [];
  assertEquals(await through([1, 2, 3, 4], [tap((x: number) => seen.push(x)), take(2)]), [1, 2]);
  assertEquals(seen, [1, 2, 3, 4]);
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

Deno.test("delay is refused: items held at EOF fail the run and point at mapAsync", async () => {
  const err = await failure([1, 2], [delay(1)]);
  assertEquals(err.stepId, "test_df.pipe_1");
  assertStringIncludes(err.message, "Did not finish at EOF");
  assertStringIncludes(err.message, "use mapAsync");
});

Deno.test("mergeMap over promises is refused when it emits between activations", async () => {
  // The pause keeps the run going (on the wall clock) while the promise settles.
  const err = await failure(
    [1, TestingSource.PAUSE(30), 2],
    [mergeMap((x: number) => new Promise<number>((r) => setTimeout(() => r(x), 1)))],
  );
  assertEquals(err.stepId, "test_df.pipe_1");
  assertStringIncludes(
    err.message,
    "Emitted an item outside an activation; asynchronous RxJS operators",
  );
});

Deno.test("bufferTime is refused once its timer fires during the run", async () => {
  const err = await failure([1, TestingSource.PAUSE(30), 2], [bufferTime(5)]);
  assertStringIncludes(err.message, "use mapAsync instead");
});

Deno.test("errors in plain operators are attributed to their pipe step", async () => {
  const boom = new Error("boom");
  const throws = map((x: number) => {
    if (x === 2) throw boom;
    return x;
  });
  const first = await failure([1, 2], [throws, keyOn("k", String)]);
  assertEquals([first.stepId, first.cause], ["test_df.pipe_1", boom]);
  const second = await failure([1, 2], [
    keyOn("k", String),
    map(([, v]: [string, number]) => v),
    throws,
  ]);
  assertEquals(second.stepId, "test_df.pipe_1");
  const inKeyOn = await failure([1], [keyOn("k", () => {
    throw boom;
  })]);
  assertEquals([inKeyOn.stepId, inKeyOn.cause], ["test_df.k", boom]);
});
