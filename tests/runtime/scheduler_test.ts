import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { map } from "rxjs";
import {
  Dataflow,
  DataflowError,
  type DynamicSink,
  type DynamicSource,
  EOF,
  inspect,
  isDataflowError,
  step,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

// --- DataflowError -------------------------------------------------------------------------

Deno.test("DataflowError for plain user code reads 'Step \"…\" failed: <cause>'", () => {
  const boom = new Error("boom");
  const err = new DataflowError("f.s", "", { cause: boom });
  assertEquals(err.message, 'Step "f.s" failed: boom');
  assertEquals(err.name, "DataflowError");
  assertEquals([err.stepId, err.key, err.partition], ["f.s", undefined, undefined]);
  assertStrictEquals(err.cause, boom);
  assertInstanceOf(err, Error);
});

Deno.test("DataflowError names the partition or the key", () => {
  const boom = new Error("boom");
  const onPart = new DataflowError("f.inp", "Failed to read the next batch", {
    partition: "p",
    cause: boom,
  });
  assertEquals(
    onPart.message,
    'Step "f.inp" on partition "p": Failed to read the next batch: boom',
  );
  assertEquals(onPart.partition, "p");
  const forKey = new DataflowError("f.s", "", { key: "k1", cause: boom });
  assertEquals(forKey.message, 'Step "f.s" for key "k1" failed: boom');
  assertEquals(forKey.key, "k1");
});

Deno.test("DataflowError without a cause has no cause suffix", () => {
  const err = new DataflowError("f.out", "The sink lists no partitions");
  assertEquals(err.message, 'Step "f.out": The sink lists no partitions');
  assertEquals(err.cause, undefined);
});

Deno.test("DataflowError describes causes that are not errors", () => {
  assertEquals(
    new DataflowError("f.s", "", { cause: "plain" }).message,
    'Step "f.s" failed: plain',
  );
  assertEquals(
    new DataflowError("f.s", "", { cause: { code: 7 } }).message,
    'Step "f.s" failed: {"code":7}',
  );
});

Deno.test("isDataflowError tells DataflowErrors from other values", () => {
  assertEquals(isDataflowError(new DataflowError("f.s", "")), true);
  assertEquals(isDataflowError(new Error("x")), false);
  assertEquals(isDataflowError({ stepId: "f.s", message: "fake" }), false);
  assertEquals(isDataflowError(undefined), false);
});

// --- Failures while running ----------------------------------------------------------------

Deno.test("a map throwing mid-way fails the run; only earlier activations were written", async () => {
  const out: number[] = [];
  const boom = new Error("five");
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([0, 1, 2, 3, 4, 5, 6, 7], { batchSize: 2 }))
    .pipe(step(
      "check",
      map((x: number) => {
        if (x === 5) throw boom;
        return x;
      }),
    ))
    .output("out", new TestingSink(out));
  const err = await assertRejects(() => runMain(flow, { clock: new TestClock() }), DataflowError);
  assertEquals(err.message, 'Step "f.check" failed: five');
  assertEquals(err.stepId, "f.check");
  assertStrictEquals(err.cause, boom);
  // [4, 5] was the failing activation: its 4 never reached the sink.
  assertEquals(out, [0, 1, 2, 3]);
});

Deno.test("when two steps fail on the same item, the first to fail is reported", async () => {
  const first = new Error("first");
  const second = new Error("second");
  const flow = new Dataflow("f");
  const s = flow.input("inp", new TestingSource([0, 1, 2]));
  s.pipe(step(
    "a",
    map((x: number) => {
      if (x === 1) throw first;
      return x;
    }),
  )).output("out_a", new TestingSink([]));
  s.pipe(step(
    "b",
    map((x: number) => {
      if (x === 1) throw second;
      return x;
    }),
  )).output("out_b", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow, { clock: new TestClock() }), DataflowError);
  assertEquals(err.stepId, "f.a");
  assertStrictEquals(err.cause, first);
});

Deno.test("a later asynchronous failure does not replace the first error", async () => {
  const late = new Error("late write failure");
  const early = new Error("map failure");
  const log: string[] = [];
  const sink: DynamicSink<number> = {
    build: () => ({
      writeBatch: (batch) =>
        new Promise<void>((_, reject) =>
          setTimeout(() => {
            log.push(`rejected ${batch}`);
            reject(late);
          }, 2)
        ),
    }),
  };
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([0, 1]))
    .pipe(step(
      "m",
      map((x: number) => {
        if (x === 1) throw early;
        return x;
      }),
    ))
    .output("out", sink);
  const err = await assertRejects(() => runMain(flow, { clock: new TestClock() }), DataflowError);
  assertEquals(err.stepId, "f.m");
  assertStrictEquals(err.cause, early);
  // The run settled the outstanding write before rejecting: nothing is left dangling.
  assertEquals(log, ["rejected 0"]);
});

Deno.test("a failure wakes a scheduler sleeping on a frozen clock", async () => {
  const boom = new Error("write failed");
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<number>([1, TestingSource.PAUSE(60_000), 2]))
    .output("out", {
      build: () => ({
        writeBatch: () => new Promise<void>((_, reject) => setTimeout(() => reject(boom), 1)),
      }),
    });
  // This clock never moves: only the failure can end the scheduler's sleep.
  const err = await assertRejects(
    () => runMain(flow, { clock: new TestClock({ autoAdvance: false }) }),
    DataflowError,
  );
  assertStrictEquals(err.cause, boom);
});

Deno.test("a flow without an input is rejected before running", async () => {
  const flow = new Dataflow("empty");
  await assertRejects(
    () => runMain(flow),
    Error,
    'Dataflow "empty" needs at least one input step; add one with flow.input()',
  );
});

Deno.test("a flow without an output is rejected before running", async () => {
  let built = false;
  const flow = new Dataflow("f");
  flow.input<number>("inp", {
    build: () => {
      built = true;
      return { nextBatch: () => EOF };
    },
  });
  await assertRejects(
    () => runMain(flow),
    Error,
    'Dataflow "f" needs at least one output or inspect step; add one with stream.output() or inspect()',
  );
  assertEquals(built, false);
});

Deno.test("an inspect step counts as an output", async () => {
  const seen: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1, 2])).pipe(inspect("look", (_id, x) => seen.push(x)));
  assertEquals((await runMain(flow, { clock: new TestClock() })).status, "eof");
  assertEquals(seen, [1, 2]);
});

// --- Activations and time ------------------------------------------------------------------

Deno.test("a run resolves with status eof and its last epoch", async () => {
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
  assertEquals(await runMain(flow, { clock: new TestClock() }), { status: "eof", epoch: 1 });
});

Deno.test("a run over a long virtual pause finishes without waiting on the wall clock", async () => {
  const out: number[] = [];
  const clock = new TestClock({ start: 0 });
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource<number>([1, TestingSource.PAUSE(3_600_000), 2]))
    .output("out", new TestingSink(out));
  const started = performance.now();
  await runMain(flow, { clock });
  assertEquals(out, [1, 2]);
  assertEquals(clock.now(), 3_600_000);
  assertLess(performance.now() - started, 1_000);
});

Deno.test("the scheduler pushes one batch per partition per activation, then flushes", async () => {
  const log: string[] = [];
  const flow = new Dataflow("f");
  const a = flow.input("a", new TestingSource(["a0", "a1"]));
  const b = flow.input("b", new TestingSource(["b0", "b1"]));
  flow.merge("m", a, b).output("out", {
    build: () => ({ writeBatch: (batch: string[]) => void log.push(batch.join(",")) }),
  });
  await runMain(flow, { clock: new TestClock() });
  assertEquals(log, ["a0,b0", "a1,b1"]);
});

/**
 * Runs a flow whose source never runs dry until a zero-delay timer set at the start fires;
 * returns the wall-clock ms the timer took to fire.
 */
async function timerLatencyUnderLoad(
  asyncBatches: boolean,
  epochInterval: number,
): Promise<number> {
  let firedAfter = -1;
  const started = performance.now();
  let n = 0;
  const next = () => {
    // Bounded: without yields the run still ends, and the assertion below fails.
    if (firedAfter >= 0 || performance.now() - started > 2_000) return EOF;
    return [n++];
  };
  const source: DynamicSource<number> = {
    build: () => ({ nextBatch: asyncBatches ? () => Promise.resolve(next()) : next }),
  };
  const flow = new Dataflow("f");
  flow.input("inp", source).output("out", { build: () => ({ writeBatch: () => {} }) });
  setTimeout(() => firedAfter = performance.now() - started, 0);
  await runMain(flow, { clock: new TestClock({ autoAdvance: false }), epochInterval });
  return firedAfter;
}

Deno.test("a busy run lets timers run within a bounded time", async () => {
  const latency = await timerLatencyUnderLoad(false, 10_000);
  assert(latency >= 0, "the timer never fired during the run");
  assertLess(latency, 500); // the scheduler yields to timers every 50 ms; slack for a loaded machine
});

Deno.test("a busy run that ends an epoch every activation lets timers run", async () => {
  const latency = await timerLatencyUnderLoad(false, 0);
  assert(latency >= 0, "the timer never fired during the run");
  assertLess(latency, 500); // the scheduler yields to timers every 50 ms; slack for a loaded machine
});

Deno.test("a busy run over batches that resolve at once lets timers run", async () => {
  const latency = await timerLatencyUnderLoad(true, 10_000);
  assert(latency >= 0, "the timer never fired during the run");
  assertLess(latency, 500); // the scheduler yields to timers every 50 ms; slack for a loaded machine
});

Deno.test("sinks are closed once at the end, inputs are closed at their EOF", async () => {
  const log: string[] = [];
  const flow = new Dataflow("f");
  flow.input<number>("inp", {
    build: () => {
      let i = 0;
      return {
        nextBatch: () => i < 2 ? [i++] : EOF,
        close: () => void log.push("close input"),
      };
    },
  }).output("out", {
    build: () => ({
      writeBatch: (batch: number[]) => void log.push(`write ${batch}`),
      close: () => void log.push("close sink"),
    }),
  });
  await runMain(flow, { clock: new TestClock() });
  assertEquals(log, ["write 0", "write 1", "close input", "close sink"]);
});
