import {
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import {
  adler32,
  Dataflow,
  DataflowError,
  type DynamicSink,
  type DynamicSource,
  EOF,
  type FixedPartitionedSink,
} from "../../mod.ts";
import { runMain, TestClock, TestingSource } from "../../src/testing/mod.ts";

/** An in-memory fixed-partitioned sink that logs builds, writes and closes. */
function memorySink(names: string[], partFn?: (key: string) => number) {
  const files: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
  const log: string[] = [];
  const sink: FixedPartitionedSink<unknown, number> = {
    listParts: () => names,
    buildPart(_step, part) {
      log.push(`build ${part}`);
      return {
        writeBatch: (values) => void files[part]!.push(...values),
        snapshot: () => files[part]!.length,
        close: () => void log.push(`close ${part}`),
      };
    },
  };
  if (partFn !== undefined) sink.partFn = partFn;
  return { sink, files, log };
}

/** A flow `inp → out` (the sink kind is checked at run time, which some tests rely on). */
function flowTo<T>(
  items: T[],
  sink: DynamicSink<T> | FixedPartitionedSink<unknown, unknown>,
  batchSize = 1,
): Dataflow {
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<T>(items, { batchSize }))
    .output("out", sink as DynamicSink<T>);
  return flow;
}

/** Resolves after `ms` of wall-clock time. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("adler32 matches the reference checksum", () => {
  assertEquals(adler32(""), 1);
  assertEquals(adler32("a"), 0x00620062);
  assertEquals(adler32("Wikipedia"), 0x11e60398);
  // UTF-8 bytes, not UTF-16 code units: "é" is 0xC3 0xA9.
  assertEquals(adler32("é"), (((1 + 0xc3) + (1 + 0xc3 + 0xa9)) << 16) + (1 + 0xc3 + 0xa9));
});

Deno.test("a fixed sink routes by adler32(key) % n into the sorted partition names", async () => {
  const names = ["c", "a", "b"];
  const { sink, files } = memorySink(names);
  const keys = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "x", "y", "z"];
  await runMain(flowTo(keys.map((k, i) => [k, i] as [string, number]), sink), {
    clock: new TestClock(),
  });
  const sorted = [...names].sort();
  const expected: Record<string, number[]> = { a: [], b: [], c: [] };
  keys.forEach((k, i) => expected[sorted[adler32(k) % 3]!]!.push(i));
  assertEquals(files, expected);
  // The keys spread over more than one partition, so the routing is really exercised.
  assertEquals(Object.values(expected).filter((v) => v.length > 0).length > 1, true);
});

Deno.test("a fixed sink writes only the values, keeping their order per partition", async () => {
  const { sink, files } = memorySink(["only"]);
  await runMain(flowTo([["k1", "a"], ["k2", "b"], ["k1", "c"]] as [string, string][], sink), {
    clock: new TestClock(),
  });
  assertEquals(files, { only: ["a", "b", "c"] });
});

Deno.test("a custom partFn picks the partition, modulo the partition count", async () => {
  const { sink, files } = memorySink(["p0", "p1", "p2"], (key) => Number(key));
  const items: [string, string][] = [["0", "a"], ["1", "b"], ["2", "c"], ["4", "d"], ["-1", "e"]];
  await runMain(flowTo(items, sink), { clock: new TestClock() });
  assertEquals(files, { p0: ["a"], p1: ["b", "d"], p2: ["c", "e"] });
});

Deno.test("sink partitions are built lazily; one never written is never built", async () => {
  const { sink, files, log } = memorySink(["a", "b", "c"], () => 1);
  await runMain(flowTo([["x", 1], ["y", 2]] as [string, number][], sink), {
    clock: new TestClock(),
  });
  assertEquals(files, { a: [], b: [1, 2], c: [] });
  assertEquals(log, ["build b", "close b"]);
});

Deno.test("a fixed sink partition receives the step id, partition name and context", async () => {
  const clock = new TestClock({ start: 3 });
  const seen: unknown[] = [];
  const sink: FixedPartitionedSink<number, null> = {
    listParts: () => ["p"],
    buildPart(step, part, resume, ctx) {
      seen.push([step, part, resume, ctx.workerIndex, ctx.workerCount, ctx.clock === clock]);
      return { writeBatch: () => {}, snapshot: () => null };
    },
  };
  await runMain(flowTo([["k", 1]] as [string, number][], sink), { clock });
  assertEquals(seen, [["f.out", "p", undefined, 0, 1, true]]);
});

Deno.test("a non-pair item to a fixed sink fails naming the output step", async () => {
  const { sink } = memorySink(["a"]);
  const err = await assertRejects(
    () => runMain(flowTo([5] as unknown as [string, number][], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(
    err.message,
    'Step "f.out": A partitioned sink needs [key, value] pairs with a string key: Got 5',
  );
  assertEquals(err.stepId, "f.out");
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("a pair with a non-string key to a fixed sink fails naming the output step", async () => {
  const { sink } = memorySink(["a"]);
  const err = await assertRejects(
    () =>
      runMain(flowTo([[1, "v"]] as unknown as [string, string][], sink), {
        clock: new TestClock(),
      }),
    DataflowError,
  );
  assertEquals(
    err.message,
    'Step "f.out": A partitioned sink needs [key, value] pairs with a string key: Got [1,"v"]',
  );
});

Deno.test("partFn throwing fails naming the output step and the key", async () => {
  const boom = new Error("bad key");
  const { sink } = memorySink(["a"], () => {
    throw boom;
  });
  const err = await assertRejects(
    () => runMain(flowTo([["k", 1]] as [string, number][], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out" for key "k": partFn failed: bad key');
  assertEquals([err.stepId, err.key], ["f.out", "k"]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("partFn returning a non-integer fails naming the output step and the key", async () => {
  const { sink } = memorySink(["a"], () => 1.5);
  const err = await assertRejects(
    () => runMain(flowTo([["k", 1]] as [string, number][], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out" for key "k": partFn must return an integer, got 1.5');
});

Deno.test("listParts returning no partitions fails naming the output step", async () => {
  const sink: FixedPartitionedSink<number, null> = {
    listParts: () => [],
    buildPart: () => ({ writeBatch: () => {}, snapshot: () => null }),
  };
  const err = await assertRejects(
    () => runMain(flowTo([["k", 1]] as [string, number][], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out": The sink lists no partitions');
});

Deno.test("writeBatch throwing fails naming the output step, partition and cause", async () => {
  const boom = new Error("disk full");
  const sink: FixedPartitionedSink<number, null> = {
    listParts: () => ["p"],
    buildPart: () => ({
      writeBatch: () => {
        throw boom;
      },
      snapshot: () => null,
    }),
  };
  const err = await assertRejects(
    () => runMain(flowTo([["k", 1]] as [string, number][], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out" on partition "p": Failed to write a batch: disk full');
  assertEquals([err.stepId, err.partition], ["f.out", "p"]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("a sink build throwing fails naming the output step", async () => {
  const boom = new Error("no route");
  const sink: DynamicSink<number> = {
    build: () => {
      throw boom;
    },
  };
  const err = await assertRejects(
    () => runMain(flowTo([1], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out": Failed to build the sink: no route');
  assertStrictEquals(err.cause, boom);
});

Deno.test("each activation's items reach a dynamic sink as one batch", async () => {
  const batches: number[][] = [];
  const sink: DynamicSink<number> = { build: () => ({ writeBatch: (b) => void batches.push(b) }) };
  await runMain(flowTo([0, 1, 2, 3, 4], sink, 2), { clock: new TestClock() });
  assertEquals(batches, [[0, 1], [2, 3], [4]]);
});

Deno.test("async writes keep batch order and the run resolves after the last settled", async () => {
  const events: string[] = [];
  let active = 0;
  let maxActive = 0;
  const sink: DynamicSink<number> = {
    build: () => ({
      async writeBatch(batch) {
        active++;
        maxActive = Math.max(maxActive, active);
        events.push(`start ${batch}`);
        await delay(2);
        events.push(`done ${batch}`);
        active--;
      },
    }),
  };
  await runMain(flowTo([0, 1, 2, 3, 4], sink, 2), { clock: new TestClock() });
  events.push("resolved");
  assertEquals(events, [
    "start 0,1",
    "done 0,1",
    "start 2,3",
    "done 2,3",
    "start 4",
    "done 4",
    "resolved",
  ]);
  assertEquals(maxActive, 1);
});

Deno.test("a sink's close is called once, after its last write settled", async () => {
  const events: string[] = [];
  const sink: DynamicSink<number> = {
    build: () => ({
      async writeBatch(batch) {
        await delay(1);
        events.push(`done ${batch}`);
      },
      close: () => void events.push("close"),
    }),
  };
  await runMain(flowTo([0, 1], sink), { clock: new TestClock() });
  assertEquals(events, ["done 0", "done 1", "close"]);
});

Deno.test("an asynchronous sink build is awaited before the first write", async () => {
  const events: string[] = [];
  const sink: DynamicSink<number> = {
    build: async () => {
      await delay(2);
      events.push("built");
      return { writeBatch: (b) => void events.push(`write ${b}`) };
    },
  };
  await runMain(flowTo([0, 1], sink), { clock: new TestClock() });
  assertEquals(events, ["built", "write 0", "write 1"]);
});

Deno.test("an asynchronous write rejecting fails the run naming the output step", async () => {
  const boom = new Error("timeout");
  const written: number[][] = [];
  const sink: FixedPartitionedSink<number, null> = {
    listParts: () => ["p"],
    buildPart: () => ({
      async writeBatch(batch) {
        await delay(1);
        if (batch[0] === 1) throw boom;
        written.push(batch);
      },
      snapshot: () => null,
    }),
  };
  const items: [string, number][] = [["k", 0], ["k", 1], ["k", 2]];
  const err = await assertRejects(
    () => runMain(flowTo(items, sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out" on partition "p": Failed to write a batch: timeout');
  assertStrictEquals(err.cause, boom);
  assertEquals(written, [[0]]);
});

Deno.test("async close rejecting fails the run naming the output step", async () => {
  const boom = new Error("flush failed");
  const sink: FixedPartitionedSink<number, null> = {
    listParts: () => ["p"],
    buildPart: () => ({
      writeBatch: () => {},
      snapshot: () => null,
      close: () => Promise.reject(boom),
    }),
  };
  const err = await assertRejects(
    () => runMain(flowTo([["k", 1]] as [string, number][], sink), { clock: new TestClock() }),
    DataflowError,
  );
  assertEquals(err.message, 'Step "f.out" on partition "p": Failed to close: flush failed');
  assertStrictEquals(err.cause, boom);
});

Deno.test("backpressure: at most 8 batches are outstanding per sink partition", async () => {
  let reads = 0;
  let settled = 0;
  let maxLag = 0;
  let active = 0;
  let maxActive = 0;
  const source: DynamicSource<number> = {
    build: () => ({
      nextBatch() {
        if (reads >= 30) return EOF;
        reads++;
        maxLag = Math.max(maxLag, reads - settled);
        return [reads];
      },
    }),
  };
  const sink: DynamicSink<number> = {
    build: () => ({
      async writeBatch(batch) {
        active++;
        maxActive = Math.max(maxActive, active);
        await delay(1);
        active--;
        settled += batch.length;
      },
    }),
  };
  const out = new Dataflow("f");
  out.input("inp", source).output("out", sink);
  // Time never moves on this clock, so no epoch ends: only the write limit holds inputs back.
  await runMain(out, { clock: new TestClock({ autoAdvance: false }) });
  assertEquals(settled, 30);
  assertEquals(maxActive, 1);
  assertLessOrEqual(maxLag, 8);
  // The limit is reached, not merely respected: inputs run ahead of slow writes up to it.
  assertEquals(maxLag, 8);
});
