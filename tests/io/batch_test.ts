import { assertEquals, assertThrows } from "@std/assert";
import { batch, batchAsync, batchGetter, EOF, NO_ITEM } from "../../mod.ts";
import { TestClock } from "../../src/testing/mod.ts";

Deno.test("batch splits lazily and is repeatable over an array", () => {
  const items = [0, 1, 2, 3, 4];
  assertEquals([...batch(items, 3)], [[0, 1, 2], [3, 4]]);
  assertEquals([...batch(items, 3)], [[0, 1, 2], [3, 4]]);
  assertEquals([...batch([], 2)], []);
  assertEquals([...batch("abc", 1)], [["a"], ["b"], ["c"]]);
  assertThrows(() => batch([1], 0).next(), RangeError, "positive integer, got 0");
});

Deno.test("batchGetter over a closeable queue (Bytewax's case)", () => {
  const queue = [0, 1, 2, 3, 4];
  let closed = false;
  const next = batchGetter(() => (queue.length > 0 ? queue.shift()! : closed ? EOF : NO_ITEM), 3);
  assertEquals(next(), [0, 1, 2]);
  assertEquals(next(), [3, 4]);
  assertEquals(next(), []);
  queue.push(5);
  closed = true;
  assertEquals(next(), [5]);
  assertEquals(next(), EOF);
  assertEquals(next(), EOF);
});

Deno.test("batchAsync over an async generator (Bytewax's case)", async () => {
  async function* gen() {
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
      yield i;
    }
  }
  const next = batchAsync(gen(), { timeoutMs: 1_000, maxSize: 2 });
  assertEquals(await next(), [0, 1]);
  assertEquals(await next(), [2, 3]);
  assertEquals(await next(), [4]);
  assertEquals(await next(), EOF);
  assertEquals(await next(), EOF);
});

Deno.test("batchAsync: a timeout cuts a batch; the pending item arrives in the next one", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const releases: Array<() => void> = [];
  async function* slow() {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((r) => releases.push(r));
      yield i;
    }
  }
  const next = batchAsync(slow(), { timeoutMs: 100, maxSize: 10, clock });
  const wait = () => new Promise((r) => setTimeout(r, 1));
  const first = next();
  await wait();
  releases.shift()!(); // item 0 arrives
  await wait();
  clock.advance(100); // the timeout ends the first batch while item 1 is pending
  assertEquals(await first, [0]);
  const second = next();
  await wait();
  releases.shift()!(); // item 1 (requested during the first call) arrives now
  await wait();
  releases.shift()!();
  await wait();
  assertEquals(await second, [1, 2]);
  assertEquals(await next(), EOF);
});
