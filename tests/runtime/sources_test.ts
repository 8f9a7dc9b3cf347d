import {
  assertEquals,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import {
  Dataflow,
  DataflowError,
  type DynamicSource,
  EOF,
  type FixedPartitionedSource,
  type PartitionContext,
  type Source,
  type StatelessSourcePartition,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink } from "../../src/testing/mod.ts";

/** Runs a flow `inp → out` and returns what the sink received. */
async function collect<T>(source: Source<T>, clock = new TestClock()): Promise<T[]> {
  const out: T[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", source).output("out", new TestingSink(out));
  await runMain(flow, { clock });
  return out;
}

/** A flow `inp → out` whose run is expected to fail; returns the DataflowError. */
async function failure(source: Source<unknown>): Promise<DataflowError> {
  const flow = new Dataflow("f");
  flow.input("inp", source).output("out", new TestingSink([]));
  return await assertRejects(() => runMain(flow, { clock: new TestClock() }), DataflowError);
}

/** A partition emitting `[now, n]` for n = 0..count-1, one item every `interval` ms. */
function metronomePart(
  ctx: PartitionContext,
  interval: number,
  count: number,
  start: { next: number; n: number } = { next: ctx.clock.now(), n: 0 },
) {
  let next = start.next;
  let n = start.n;
  return {
    nextBatch(): [number, number][] | EOF {
      if (n >= count) return EOF;
      const now = ctx.clock.now();
      next = now + interval;
      return [[now, n++]];
    },
    nextAwake: () => next,
    snapshot: () => ({ next, n }),
  };
}

function dynamicMetronome(interval: number, count: number): DynamicSource<[number, number]> {
  return { build: (_step, _i, _n, ctx) => metronomePart(ctx, interval, count) };
}

function fixedMetronome(
  interval: number,
  count: number,
): FixedPartitionedSource<[number, number], { next: number; n: number }> {
  return {
    listParts: () => ["singleton"],
    buildPart: (_step, _part, resume, ctx) => metronomePart(ctx, interval, count, resume),
  };
}

function gaps(out: [number, number][]): number[] {
  return out.slice(1).map(([t], i) => t - out[i]![0]);
}

for (
  const [kind, metronome] of [
    ["dynamic", dynamicMetronome],
    ["fixed-partitioned", fixedMetronome],
  ] as const
) {
  Deno.test(`${kind} metronome: nextBatch is not called before nextAwake`, async () => {
    const out = await collect(metronome(100, 5), new TestClock({ start: 1_000 }));
    assertEquals(out.map(([, n]) => n), [0, 1, 2, 3, 4]);
    for (const gap of gaps(out)) assertGreaterOrEqual(gap, 100);
    // The scheduler sleeps exactly until the partition's nextAwake, not longer.
    assertEquals(out.map(([t]) => t), [1_000, 1_100, 1_200, 1_300, 1_400]);
  });

  Deno.test(`${kind} metronomes of 100 and 500 ms with 250 ms epochs both finish`, async () => {
    const fast: [number, number][] = [];
    const slow: [number, number][] = [];
    const flow = new Dataflow("f");
    flow.input("fast", metronome(100, 5)).output("fast_out", new TestingSink(fast));
    flow.input("slow", metronome(500, 5)).output("slow_out", new TestingSink(slow));
    const summary = await runMain(flow, { clock: new TestClock(), epochInterval: 250 });
    assertEquals(summary.status, "eof");
    assertEquals(fast.map(([, n]) => n), [0, 1, 2, 3, 4]);
    assertEquals(slow.map(([, n]) => n), [0, 1, 2, 3, 4]);
    for (const gap of gaps(fast)) assertGreaterOrEqual(gap, 100);
    for (const gap of gaps(slow)) assertGreaterOrEqual(gap, 500);
    // Epochs kept advancing while the slow source was not due: 2 000 ms / 250 ms.
    assertGreaterOrEqual(summary.epoch, 8);
  });
}

/** A partition returning a generator that yields n twice, for n = 0..4. */
function twicePart(): StatelessSourcePartition<number> & { snapshot(): null } {
  let n = 0;
  return {
    nextBatch() {
      if (n >= 5) return EOF;
      const v = n++;
      return (function* () {
        yield v;
        yield v;
      })();
    },
    snapshot: () => null,
  };
}

Deno.test("dynamic source: nextBatch may return an iterator", async () => {
  assertEquals(await collect<number>({ build: twicePart }), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
});

Deno.test("fixed-partitioned source: nextBatch may return an iterator", async () => {
  const src: FixedPartitionedSource<number, null> = {
    listParts: () => ["one"],
    buildPart: twicePart,
  };
  assertEquals(await collect(src), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
});

Deno.test("nextBatch may return a Set or any other iterable", async () => {
  let calls = 0;
  const src: DynamicSource<string> = {
    build: () => ({ nextBatch: () => calls++ === 0 ? new Set(["a", "b"]) : EOF }),
  };
  assertEquals(await collect(src), ["a", "b"]);
});

Deno.test("an empty batch without nextAwake cools the partition down for 1 ms", async () => {
  const clock = new TestClock({ start: 0 });
  const calls: number[] = [];
  const src: DynamicSource<never> = {
    build: (_s, _i, _n, ctx) => ({
      nextBatch() {
        const now = ctx.clock.now();
        calls.push(now);
        // The call bound keeps a busy-spinning scheduler from hanging the test.
        return now >= 50 || calls.length > 1_000 ? EOF : [];
      },
    }),
  };
  assertEquals(await collect(src, clock), []);
  // One call per virtual millisecond: a busy-spinning scheduler would call it many times
  // at the same virtual time, since a TestClock only moves when the scheduler sleeps.
  assertLessOrEqual(calls.length, 52);
  assertEquals(calls[0], 0);
  assertEquals(calls.at(-1), 50);
  for (let i = 1; i < calls.length; i++) assertGreaterOrEqual(calls[i]! - calls[i - 1]!, 1);
});

Deno.test("a non-empty batch without nextAwake is followed by an immediate poll", async () => {
  const clock = new TestClock({ start: 0 });
  const calls: number[] = [];
  const src: DynamicSource<number> = {
    build: (_s, _i, _n, ctx) => {
      let n = 0;
      return {
        nextBatch() {
          calls.push(ctx.clock.now());
          return n < 3 ? [n++] : EOF;
        },
      };
    },
  };
  assertEquals(await collect(src, clock), [0, 1, 2]);
  assertEquals(calls, [0, 0, 0, 0]);
});

Deno.test("nextAwake may be a Date", async () => {
  const clock = new TestClock({ start: 0 });
  const src: DynamicSource<number> = {
    build: (_s, _i, _n, ctx) => {
      let n = 0;
      return {
        nextBatch() {
          if (n >= 3) return EOF;
          n++;
          return [ctx.clock.now()];
        },
        nextAwake: () => new Date(ctx.clock.now() + 1_000),
      };
    },
  };
  // nextAwake is also asked right after the build, so the first poll waits for it too.
  assertEquals(await collect(src, clock), [1_000, 2_000, 3_000]);
});

Deno.test("a nextBatch Promise delivers its items in order", async () => {
  const batches = [[0, 1], [2], [], [3, 4]];
  let i = 0;
  const src: DynamicSource<number> = {
    build: () => ({
      nextBatch: () =>
        i < batches.length
          ? new Promise((resolve) => setTimeout(() => resolve(batches[i++]!), 2))
          : Promise.resolve(EOF),
    }),
  };
  assertEquals(await collect(src), [0, 1, 2, 3, 4]);
});

Deno.test("nextBatch is not called again while its Promise is outstanding", async () => {
  let outstanding = 0;
  let maxOutstanding = 0;
  let n = 0;
  const src: DynamicSource<number> = {
    build: () => ({
      nextBatch() {
        outstanding++;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        return new Promise((resolve) =>
          setTimeout(() => {
            outstanding--;
            resolve(n < 4 ? [n++] : EOF);
          }, 1)
        );
      },
    }),
  };
  assertEquals(await collect(src), [0, 1, 2, 3]);
  assertEquals(maxOutstanding, 1);
});

Deno.test("partitions are built in sorted order and read round-robin per activation", async () => {
  const built: string[] = [];
  const src: FixedPartitionedSource<string, number> = {
    listParts: () => ["b", "c", "a"],
    buildPart(_step, name) {
      built.push(name);
      let i = 0;
      return {
        nextBatch: () => i < 3 ? [`${name}${i++}`] : EOF,
        snapshot: () => i,
      };
    },
  };
  const out = await collect(src);
  assertEquals(built, ["a", "b", "c"]);
  assertEquals(out, ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
});

Deno.test("a partition at EOF stops being polled while the others go on", async () => {
  const polls: string[] = [];
  const src: FixedPartitionedSource<string, number> = {
    listParts: () => ["long", "short"],
    buildPart(_step, name) {
      let i = 0;
      const n = name === "short" ? 1 : 3;
      return {
        nextBatch() {
          polls.push(name);
          return i < n ? [`${name}${i++}`] : EOF;
        },
        snapshot: () => i,
      };
    },
  };
  assertEquals(await collect(src), ["long0", "short0", "long1", "long2"]);
  assertEquals(polls, ["long", "short", "long", "short", "long", "long"]);
});

Deno.test("the partitions receive the step id, partition name and run context", async () => {
  const clock = new TestClock({ start: 7 });
  const seen: unknown[] = [];
  const src: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart(step, name, resume, ctx) {
      seen.push([step, name, resume, ctx.workerIndex, ctx.workerCount, ctx.clock === clock]);
      return { nextBatch: () => EOF, snapshot: () => 0 };
    },
  };
  const dyn: DynamicSource<number> = {
    build(step, index, count, ctx) {
      seen.push([step, index, count, ctx.clock === clock]);
      return { nextBatch: () => EOF };
    },
  };
  const flow = new Dataflow("f");
  flow.input("fixed", src).output("out1", new TestingSink([]));
  flow.input("dyn", dyn).output("out2", new TestingSink([]));
  await runMain(flow, { clock });
  assertEquals(seen, [["f.fixed", "p", undefined, 0, 1, true], ["f.dyn", 0, 1, true]]);
});

Deno.test("close is called exactly once per partition, after its last nextBatch", async () => {
  const log: string[] = [];
  const src: FixedPartitionedSource<number, number> = {
    listParts: () => ["a", "b"],
    buildPart(_step, name) {
      let i = 0;
      return {
        nextBatch() {
          log.push(`next ${name}`);
          return i < (name === "a" ? 1 : 2) ? [i++] : EOF;
        },
        snapshot: () => i,
        close: () => void log.push(`close ${name}`),
      };
    },
  };
  assertEquals(await collect(src), [0, 0, 1]);
  assertEquals(log, [
    "next a",
    "next b",
    "next a",
    "close a",
    "next b",
    "next b",
    "close b",
  ]);
});

Deno.test("an asynchronous close is awaited before the run resolves", async () => {
  const log: string[] = [];
  const src: DynamicSource<number> = {
    build: () => ({
      nextBatch: () => EOF,
      close: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            log.push("closed");
            resolve();
          }, 2)
        ),
    }),
  };
  await collect(src);
  log.push("resolved");
  assertEquals(log, ["closed", "resolved"]);
});

Deno.test("nextBatch throwing fails the run naming the input and partition", async () => {
  const boom = new Error("boom");
  const src: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => ({
      nextBatch: () => {
        throw boom;
      },
      snapshot: () => 0,
    }),
  };
  const err = await failure(src);
  assertEquals(err.message, 'Step "f.inp" on partition "p": Failed to read the next batch: boom');
  assertEquals(err.stepId, "f.inp");
  assertEquals(err.partition, "p");
  assertStrictEquals(err.cause, boom);
});

Deno.test("nextBatch throwing in a dynamic source names the input, without partition", async () => {
  const boom = new Error("boom");
  const err = await failure({
    build: () => ({
      nextBatch: () => {
        throw boom;
      },
    }),
  });
  assertEquals(err.message, 'Step "f.inp": Failed to read the next batch: boom');
  assertEquals(err.partition, undefined);
  assertStrictEquals(err.cause, boom);
});

Deno.test("a rejected nextBatch Promise fails the run naming the input and partition", async () => {
  const boom = new Error("late boom");
  const src: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => ({
      nextBatch: () => new Promise((_, reject) => setTimeout(() => reject(boom), 1)),
      snapshot: () => 0,
    }),
  };
  const err = await failure(src);
  assertEquals(
    err.message,
    'Step "f.inp" on partition "p": Failed to read the next batch: late boom',
  );
  assertEquals([err.stepId, err.partition], ["f.inp", "p"]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("items of earlier batches are written before a failing nextBatch", async () => {
  const out: number[] = [];
  const boom = new Error("boom");
  let i = 0;
  const flow = new Dataflow("f");
  flow.input<number>("inp", {
    build: () => ({
      nextBatch: () => {
        if (i === 2) throw boom;
        return [i++];
      },
    }),
  }).output("out", new TestingSink(out));
  const err = await assertRejects(() => runMain(flow, { clock: new TestClock() }), DataflowError);
  assertStrictEquals(err.cause, boom);
  assertEquals(out, [0, 1]);
});

Deno.test("buildPart throwing fails the run naming the input and partition", async () => {
  const boom = new Error("no such partition");
  const err = await failure({
    listParts: () => ["p"],
    buildPart: () => {
      throw boom;
    },
  });
  assertEquals(
    err.message,
    'Step "f.inp" on partition "p": Failed to build the partition: no such partition',
  );
  assertEquals([err.stepId, err.partition], ["f.inp", "p"]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("an asynchronous buildPart rejecting fails the run like a throwing one", async () => {
  const boom = new Error("refused");
  const err = await failure({
    listParts: () => Promise.resolve(["p"]),
    buildPart: () => Promise.reject(boom),
  });
  assertEquals(
    err.message,
    'Step "f.inp" on partition "p": Failed to build the partition: refused',
  );
  assertStrictEquals(err.cause, boom);
});

Deno.test("listParts throwing fails the run naming the input", async () => {
  const boom = new Error("offline");
  const err = await failure({
    listParts: () => {
      throw boom;
    },
    buildPart: () => ({ nextBatch: () => EOF, snapshot: () => 0 }),
  });
  assertEquals(err.message, `Step "f.inp": Failed to list the source's partitions: offline`);
  assertEquals([err.stepId, err.partition], ["f.inp", undefined]);
  assertStrictEquals(err.cause, boom);
});

Deno.test("DynamicSource.build throwing fails the run naming the input", async () => {
  const boom = new Error("nope");
  const err = await failure({
    build: () => {
      throw boom;
    },
  });
  assertEquals(err.message, 'Step "f.inp": Failed to build the source: nope');
  assertStrictEquals(err.cause, boom);
});

Deno.test("nextBatch returning a non-iterable fails the run naming the input", async () => {
  const src: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => ({
      nextBatch: () => 42 as unknown as number[],
      snapshot: () => 0,
    }),
  };
  const err = await failure(src);
  assertEquals(
    err.message,
    'Step "f.inp" on partition "p": nextBatch must return an iterable of items or EOF: 42',
  );
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("nextBatch returning undefined fails the run naming the input", async () => {
  const err = await failure({
    build: () => ({ nextBatch: () => undefined as unknown as number[] }),
  });
  assertEquals(
    err.message,
    'Step "f.inp": nextBatch must return an iterable of items or EOF: undefined',
  );
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("a nextBatch Promise resolving undefined fails the run naming the input", async () => {
  const err = await failure({
    build: () => ({ nextBatch: () => Promise.resolve(undefined as unknown as number[]) }),
  });
  assertEquals(
    err.message,
    'Step "f.inp": nextBatch must return an iterable of items or EOF: undefined',
  );
  assertInstanceOf(err.cause, TypeError);
});

Deno.test("nextAwake throwing fails the run naming the input and partition", async () => {
  const boom = new Error("clock gone");
  const err = await failure({
    listParts: () => ["p"],
    buildPart: () => ({
      nextBatch: () => [1],
      nextAwake: () => {
        throw boom;
      },
      snapshot: () => 0,
    }),
  });
  assertEquals(
    err.message,
    'Step "f.inp" on partition "p": Failed to compute nextAwake: clock gone',
  );
  assertStrictEquals(err.cause, boom);
});

Deno.test("a batch iterator throwing fails the run naming the input", async () => {
  const boom = new Error("broken iterator");
  const err = await failure({
    build: () => ({
      nextBatch: () =>
        (function* () {
          yield 1;
          throw boom;
        })(),
    }),
  });
  assertEquals(err.message, 'Step "f.inp": Failed to iterate the batch: broken iterator');
  assertStrictEquals(err.cause, boom);
});

Deno.test("close throwing at EOF fails the run naming the input and partition", async () => {
  const boom = new Error("cannot close");
  const err = await failure({
    listParts: () => ["p"],
    buildPart: () => ({
      nextBatch: () => EOF,
      snapshot: () => 0,
      close: () => {
        throw boom;
      },
    }),
  });
  assertEquals(err.message, 'Step "f.inp" on partition "p": Failed to close: cannot close');
  assertStrictEquals(err.cause, boom);
});

Deno.test("after a failure the other partitions are closed", async () => {
  const closed: string[] = [];
  const boom = new Error("boom");
  const err = await failure({
    listParts: () => ["bad", "good"],
    buildPart: (_s, name) => ({
      nextBatch: () => {
        if (name === "bad") throw boom;
        return [1];
      },
      snapshot: () => 0,
      close: () => void closed.push(name),
    }),
  });
  assertStrictEquals(err.cause, boom);
  assertEquals(closed, ["bad", "good"]);
});
