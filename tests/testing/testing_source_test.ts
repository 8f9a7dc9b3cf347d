import { assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { AbortExecution, Dataflow, EOF, type StatefulSourcePartition } from "../../mod.ts";
import {
  runMain,
  TestClock,
  TestingAbort,
  TestingEof,
  type TestingMarker,
  TestingPause,
  TestingSink,
  TestingSource,
} from "../../src/testing/mod.ts";

/** Builds the single partition of `src` the way the runtime does. */
function part<T>(
  src: TestingSource<T>,
  resume: number | undefined = undefined,
  clock: TestClock = new TestClock({ autoAdvance: false }),
): StatefulSourcePartition<T, number> {
  return src.buildPart("f.inp", "iterable", resume, { clock, workerIndex: 0, workerCount: 1 });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

Deno.test("TestingSource has one partition named iterable", () => {
  assertEquals(new TestingSource([1]).listParts(), ["iterable"]);
});

Deno.test("TestingSource yields one item per batch by default, then EOF", () => {
  const p = part(new TestingSource(range(3)));
  assertEquals(p.nextBatch(), [0]);
  assertEquals(p.nextBatch(), [1]);
  assertEquals(p.nextBatch(), [2]);
  assertStrictEquals(p.nextBatch(), EOF);
});

Deno.test("TestingSource over an empty iterable is at EOF at once", () => {
  const p = part(new TestingSource<number>([]));
  assertStrictEquals(p.nextBatch(), EOF);
  assertEquals(p.snapshot(), 0);
});

Deno.test("TestingSource snapshot is the index of the next item and resumes from it", () => {
  const src = new TestingSource(range(3));
  const p = part(src);
  assertEquals(p.snapshot(), 0);
  assertEquals(p.nextBatch(), [0]);
  assertEquals(p.nextBatch(), [1]);
  assertEquals(p.snapshot(), 2);

  const resumed = part(src, 2);
  assertEquals(resumed.snapshot(), 2);
  assertEquals(resumed.nextBatch(), [2]);
  assertEquals(resumed.snapshot(), 3);
  assertStrictEquals(resumed.nextBatch(), EOF);
});

Deno.test("TestingSource resumed past the end is at EOF", () => {
  const p = part(new TestingSource(range(3)), 10);
  assertStrictEquals(p.nextBatch(), EOF);
});

Deno.test("TestingSource batchSize 2 over 0..4 gives [0,1], [2,3], [4]", () => {
  const p = part(new TestingSource(range(5), { batchSize: 2 }));
  assertEquals(p.nextBatch(), [0, 1]);
  assertEquals(p.nextBatch(), [2, 3]);
  assertEquals(p.nextBatch(), [4]);
  assertStrictEquals(p.nextBatch(), EOF);
});

Deno.test("TestingSource iterates a fresh iterator for each partition built", () => {
  const items = new Set(["a", "b"]);
  const src = new TestingSource(items);
  const first = part(src);
  assertEquals(first.nextBatch(), ["a"]);
  const second = part(src);
  assertEquals(second.nextBatch(), ["a"]);
  assertEquals(first.nextBatch(), ["b"]);
});

Deno.test("TestingSource rejects a batch size that is not a positive integer", () => {
  assertThrows(
    () => new TestingSource([1], { batchSize: 0 }),
    RangeError,
    "batchSize must be a positive integer, got 0",
  );
  assertThrows(
    () => new TestingSource([1], { batchSize: 1.5 }),
    RangeError,
    "batchSize must be a positive integer, got 1.5",
  );
});

Deno.test("TestingSource EOF marker ends the run and the snapshot continues after it", () => {
  const src = new TestingSource<number>([0, 1, 2, TestingSource.EOF(), 3, 4], { batchSize: 2 });
  const p = part(src);
  assertEquals(p.nextBatch(), [0, 1]);
  assertEquals(p.nextBatch(), [2]);
  assertStrictEquals(p.nextBatch(), EOF);
  const snap = p.snapshot();
  assertEquals(snap, 4);

  const resumed = part(src, snap);
  assertEquals(resumed.nextBatch(), [3, 4]);
  assertStrictEquals(resumed.nextBatch(), EOF);
});

Deno.test("TestingSource ABORT marker throws once; a resumed partition skips it", () => {
  const src = new TestingSource<number>([0, 1, 2, TestingSource.ABORT(), 3, 4], { batchSize: 2 });
  const p = part(src);
  assertEquals(p.nextBatch(), [0, 1]);
  assertEquals(p.snapshot(), 2);
  assertEquals(p.nextBatch(), [2]);
  assertThrows(() => p.nextBatch(), AbortExecution, "TestingSource reached an ABORT marker");

  const resumed = part(src, 2);
  assertEquals(resumed.nextBatch(), [2, 3]);
  assertEquals(resumed.nextBatch(), [4]);
  assertStrictEquals(resumed.nextBatch(), EOF);
});

Deno.test("TestingSource ABORT marker object records that it fired", () => {
  const abort = TestingSource.ABORT();
  assertEquals(abort.fired, false);
  const p = part(new TestingSource<number>([abort, 1]));
  assertThrows(() => p.nextBatch(), AbortExecution);
  assertEquals(abort.fired, true);
  assertEquals(part(new TestingSource<number>([abort, 1])).nextBatch(), [1]);
});

Deno.test("TestingSource PAUSE yields [] until the pause passed, with nextAwake at its end", () => {
  const clock = new TestClock({ start: 1_000, autoAdvance: false });
  const p = part(new TestingSource<string>(["a", TestingSource.PAUSE(500), "b"]), 0, clock);
  assertEquals(p.nextBatch(), ["a"]);
  assertEquals(p.nextAwake?.(), undefined);
  assertEquals(p.nextBatch(), []);
  assertEquals(p.nextAwake?.(), 1_500);
  clock.advance(499);
  assertEquals(p.nextBatch(), []);
  assertEquals(p.nextAwake?.(), 1_500);
  clock.advance(1);
  assertEquals(p.nextBatch(), ["b"]);
  assertEquals(p.nextAwake?.(), undefined);
  assertStrictEquals(p.nextBatch(), EOF);
});

Deno.test("TestingSource PAUSE ends a batch early and counts in the snapshot", () => {
  const clock = new TestClock({ autoAdvance: false });
  const p = part(
    new TestingSource<number>([0, TestingSource.PAUSE(10), 1, 2], { batchSize: 3 }),
    0,
    clock,
  );
  assertEquals(p.nextBatch(), [0]);
  assertEquals(p.snapshot(), 1);
  assertEquals(p.nextBatch(), []);
  assertEquals(p.snapshot(), 2);
  clock.advance(10);
  assertEquals(p.nextBatch(), [1, 2]);
  assertEquals(p.snapshot(), 4);
});

Deno.test("TestingSource.PAUSE rejects a negative duration", () => {
  assertThrows(() => TestingSource.PAUSE(-1), RangeError, "PAUSE needs a duration >= 0 ms, got -1");
});

Deno.test("TestingSource marker factories return the exported marker classes", () => {
  const markers: TestingMarker[] = [
    TestingSource.EOF(),
    TestingSource.ABORT(),
    TestingSource.PAUSE(5),
  ];
  assertEquals(markers.map((m) => m.marker), ["EOF", "ABORT", "PAUSE"]);
  assertEquals(markers[0] instanceof TestingEof, true);
  assertEquals(markers[1] instanceof TestingAbort, true);
  assertEquals(markers[2] instanceof TestingPause && markers[2].ms, 5);
});

Deno.test("ABORT in a dataflow resolves the run as aborted; a second run skips it", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<number>([0, 1, 2, TestingSource.ABORT(), 3, 4]))
    .output("out", new TestingSink(out));
  const first = await runMain(flow, { clock: new TestClock() });
  assertEquals(first, { status: "aborted", epoch: 1 });
  assertEquals(out, [0, 1, 2]);

  const second = await runMain(flow, { clock: new TestClock() });
  assertEquals(second.status, "eof");
  assertEquals(out, [0, 1, 2, 0, 1, 2, 3, 4]);
});

Deno.test("ABORT as the first item of a dataflow writes nothing", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<number>([TestingSource.ABORT(), 1]))
    .output("out", new TestingSink(out));
  assertEquals((await runMain(flow, { clock: new TestClock() })).status, "aborted");
  assertEquals(out, []);
});

Deno.test("EOF marker in a dataflow ends the run after the items before it", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<number>([0, 1, 2, TestingSource.EOF(), 3, 4]))
    .output("out", new TestingSink(out));
  const summary = await runMain(flow, { clock: new TestClock() });
  assertEquals(summary.status, "eof");
  assertEquals(out, [0, 1, 2]);
});

Deno.test("PAUSE in a dataflow delays the next item by the pause on the run's clock", async () => {
  const seen: [string, number][] = [];
  const clock = new TestClock({ start: 0 });
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<string>(["a", TestingSource.PAUSE(5_000), "b"]))
    .output("out", {
      build: (_step, _i, _n, ctx) => ({
        writeBatch: (items: string[]) =>
          void seen.push(...items.map((x) => [x, ctx.clock.now()] as [string, number])),
      }),
    });
  await runMain(flow, { clock, epochInterval: 60_000 });
  assertEquals(seen, [["a", 0], ["b", 5_000]]);
});

Deno.test("ABORT with batchSize 2 in a dataflow writes the items before it", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input(
    "inp",
    new TestingSource<number>([0, 1, 2, TestingSource.ABORT(), 3, 4], { batchSize: 2 }),
  )
    .output("out", new TestingSink(out));
  assertEquals(await runMain(flow, { clock: new TestClock() }), { status: "aborted", epoch: 1 });
  assertEquals(out, [0, 1, 2]);
  assertEquals(await runMain(flow, { clock: new TestClock() }), { status: "eof", epoch: 1 });
  assertEquals(out, [0, 1, 2, 0, 1, 2, 3, 4]);
});
