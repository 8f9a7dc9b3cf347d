import { assertEquals, assertLess, assertRejects } from "@std/assert";
import {
  Dataflow,
  DEFAULT_EPOCH_INTERVAL_MS,
  type DynamicSink,
  EOF as EOF_MARKER,
  type FixedPartitionedSource,
  inspectDebug,
  run,
} from "../../mod.ts";
import {
  runMain,
  TestClock,
  type TestingMarker,
  TestingSink,
  TestingSource,
} from "../../src/testing/mod.ts";

/** Runs `items` through inspectDebug and returns `[item, epoch]` pairs and the summary. */
async function epochsOf<T>(
  items: (T | TestingMarker)[],
  epochInterval: number,
  batchSize = 1,
) {
  const seen: [T, number][] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<T>(items, { batchSize }))
    .pipe(inspectDebug("dbg", (_id, item, epoch) => seen.push([item, epoch])));
  const summary = await runMain(flow, { clock: new TestClock({ start: 0 }), epochInterval });
  return { seen, summary };
}

Deno.test("the default epoch interval is 10 seconds", () => {
  assertEquals(DEFAULT_EPOCH_INTERVAL_MS, 10_000);
});

Deno.test("items read in successive epoch intervals are in epochs 1, 2, 3", async () => {
  // a at t=1, b at t=10 001, c at t=20 001: one in each 10 s epoch.
  const { seen, summary } = await epochsOf<string>(
    [
      TestingSource.PAUSE(1),
      "a",
      TestingSource.PAUSE(10_000),
      "b",
      TestingSource.PAUSE(10_000),
      "c",
    ],
    10_000,
  );
  assertEquals(seen, [["a", 1], ["b", 2], ["c", 3]]);
  assertEquals(summary, { status: "eof", epoch: 3 });
});

Deno.test("a long pause spans several epochs", async () => {
  // b is read at t=35 000: epochs 2 and 3 pass without items.
  const { seen } = await epochsOf<string>(["a", TestingSource.PAUSE(35_000), "b"], 10_000);
  assertEquals(seen, [["a", 1], ["b", 4]]);
});

Deno.test("an item read exactly at the epoch deadline belongs to the ending epoch", async () => {
  // Like Bytewax: an activation polls its inputs first, then the epoch advances. b and c are
  // read at t=10 000 and t=20 000, the deadlines of epochs 1 and 2.
  const { seen } = await epochsOf<string>(
    ["a", TestingSource.PAUSE(10_000), "b", TestingSource.PAUSE(10_000), "c"],
    10_000,
  );
  assertEquals(seen, [["a", 1], ["b", 1], ["c", 2]]);
});

Deno.test("items within one epoch interval share an epoch", async () => {
  const { seen } = await epochsOf<number>([0, 1, TestingSource.PAUSE(9_999), 2], 10_000);
  assertEquals(seen, [[0, 1], [1, 1], [2, 1]]);
});

Deno.test("epochInterval 0 gives each activation its own epoch", async () => {
  const { seen, summary } = await epochsOf<number>([0, 1, 2, 3, 4, 5], 0, 2);
  assertEquals(seen, [[0, 1], [1, 1], [2, 2], [3, 2], [4, 3], [5, 3]]);
  // The activation that reads EOF is in epoch 4.
  assertEquals(summary, { status: "eof", epoch: 4 });
});

/**
 * A TestingSource wrapped to log `read <item>` as items are read, and a sink whose writes
 * take 2 ms of wall-clock time and log `write-done <batch>`.
 */
function loggedFlow(items: (number | TestingMarker)[], events: string[], epochs: unknown[]) {
  const inner = new TestingSource<number>(items);
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => inner.listParts(),
    buildPart(step, part, resume, ctx) {
      const p = inner.buildPart(step, part, resume, ctx);
      return {
        nextBatch() {
          const b = p.nextBatch();
          if (Array.isArray(b)) { for (const x of b) events.push(`read ${x}`); }
          return b;
        },
        nextAwake: () => p.nextAwake?.(),
        snapshot: () => p.snapshot(),
      };
    },
  };
  const sink: DynamicSink<number> = {
    build: () => ({
      async writeBatch(batch) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        events.push(`write-done ${batch}`);
      },
    }),
  };
  const flow = new Dataflow("f");
  flow.input("inp", source)
    .pipe(inspectDebug("dbg", (_id, x, epoch) => epochs.push([x, epoch])))
    .output("out", sink);
  return flow;
}

Deno.test("an async sink's writes of an epoch settle before the next epoch is read", async () => {
  const events: string[] = [];
  const epochs: unknown[] = [];
  // 0, 1, 2 are read at t=0 (epoch 1); 3 and 4 at t=10 001 (epoch 2).
  const flow = loggedFlow([0, 1, 2, TestingSource.PAUSE(10_001), 3, 4], events, epochs);
  await runMain(flow, { clock: new TestClock({ start: 0 }), epochInterval: 10_000 });
  assertEquals(epochs, [[0, 1], [1, 1], [2, 1], [3, 2], [4, 2]]);
  const doneOfEpoch1 = ["write-done 0", "write-done 1", "write-done 2"].map((e) =>
    events.indexOf(e)
  );
  for (const i of doneOfEpoch1) assertLess(-1, i);
  assertLess(Math.max(...doneOfEpoch1), events.indexOf("read 3"));
  assertEquals(events.filter((e) => e.startsWith("write-done")), [
    "write-done 0",
    "write-done 1",
    "write-done 2",
    "write-done 3",
    "write-done 4",
  ]);
});

Deno.test("with epochInterval 0 every write settles before the next read", async () => {
  const events: string[] = [];
  const epochs: unknown[] = [];
  await runMain(loggedFlow([0, 1, 2], events, epochs), {
    clock: new TestClock({ start: 0 }),
    epochInterval: 0,
  });
  assertEquals(epochs, [[0, 1], [1, 2], [2, 3]]);
  assertEquals(events, [
    "read 0",
    "write-done 0",
    "read 1",
    "write-done 1",
    "read 2",
    "write-done 2",
  ]);
});

Deno.test("run rejects a negative epochInterval with a RangeError", async () => {
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
  await assertRejects(
    () => runMain(flow, { epochInterval: -1 }),
    RangeError,
    "epochInterval must be a number of milliseconds >= 0, got -1",
  );
  await assertRejects(
    () => runMain(flow, { epochInterval: Number.NaN }),
    RangeError,
    "epochInterval must be a number of milliseconds >= 0, got NaN",
  );
});

Deno.test("run rejects a worker count that is not a positive integer", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink(out));
  await assertRejects(
    () => run(flow, { workers: 0 }),
    RangeError,
    "workers must be a positive integer, got 0",
  );
  assertEquals(out, []);
});

Deno.test("with epochInterval 0 an idle wait sleeps (no spinning through empty epochs)", async () => {
  // A PAUSE under a test clock: the scheduler must sleep until the pause ends (the clock
  // jumps there) rather than end empty epochs forever, which hung this run before.
  const { seen, summary } = await epochsOf([1, TestingSource.PAUSE(120_000), 2], 0);
  assertEquals(summary.status, "eof");
  assertEquals(seen.map(([item]) => item), [1, 2]);
  // One epoch per activation that did something, not one per idle loop.
  assertLess(summary.epoch, 6);
});

Deno.test("with epochInterval 0 and the wall clock, an idle source does not spin", async () => {
  let polls = 0;
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => {
      const start = Date.now();
      return {
        nextBatch: () => {
          polls++;
          return Date.now() - start >= 200 ? EOF_MARKER : [];
        },
        nextAwake: () => start + 200,
        snapshot: () => 0,
      };
    },
  };
  const flow = new Dataflow("idle");
  flow.input("inp", source).output("out", new TestingSink([]));
  const summary = await run(flow, { epochInterval: 0 });
  assertEquals(summary.status, "eof");
  // The source asks not to be polled before 200 ms: a sleeping scheduler polls it about
  // twice; a spinning one would have ended thousands of empty epochs meanwhile.
  assertLess(polls, 5);
  assertLess(summary.epoch, 6);
});
