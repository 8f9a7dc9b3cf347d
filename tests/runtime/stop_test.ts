// Graceful stop: run(flow, { signal }). What a stop reads, drains, writes, commits and closes,
// how quickly it wakes a sleeping scheduler, and that a resumed run continues after it.
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  countWindow,
  Dataflow,
  DataflowError,
  type DynamicSink,
  EOF,
  EventClock,
  type FixedPartitionedSource,
  inspect,
  keyOn,
  mapAsync,
  run,
  statefulMap,
  TumblingWindower,
} from "../../mod.ts";
import { inspectStore } from "../../src/recovery/admin.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import {
  TestClock,
  type TestingMarker,
  TestingSink,
  TestingSource,
} from "../../src/testing/mod.ts";

/** Resolves with `p`, or fails the test after `ms` of wall time (a run that does not stop). */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (wall time, up to 5 s) until `cond()` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 5_000;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets the event loop turn a few times (anything the run would do by itself happens). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Whether `p` settled within a few event-loop turns. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => done = true, () => done = true);
  await turns();
  return done;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_stop_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a stop while the scheduler sleeps until a 10 s epoch deadline wakes it at once", async () => {
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1, TestingSource.PAUSE(60_000), 2]))
    .output("out", new TestingSink(out));
  // A frozen clock: the scheduler sleeps until the epoch deadline (t = 10 000) that never comes.
  const clock = new TestClock({ start: 0, autoAdvance: false });
  const stop = new AbortController();
  const running = run(flow, { clock, epochInterval: 10_000, signal: stop.signal });
  await until(() => out.length === 1, "the first item");
  await turns();
  const t0 = performance.now();
  stop.abort();
  const summary = await within(2_000, running, "the stopped run");
  const ms = performance.now() - t0;
  assertEquals(summary, { status: "stopped", epoch: 1 });
  assertEquals(out, [1]);
  assertEquals(clock.now(), 0); // it did not wait for the deadline, in virtual time either
  assert(ms < 500, `the stop took ${ms} ms`);
});

Deno.test("a stop while the scheduler waits for a partition's nextAwake wakes it at once", async () => {
  const polls: number[] = [];
  const clock = new TestClock({ start: 0, autoAdvance: false });
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: (_s, _p, resume) => {
      let i = resume ?? 0;
      return {
        nextBatch: () => (polls.push(clock.now()), [i++]),
        // At once, then once an hour.
        nextAwake: () => polls.length === 0 ? undefined : clock.now() + 3_600_000,
        snapshot: () => i,
      };
    },
  };
  const out: number[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", source).output("out", new TestingSink(out));
  const stop = new AbortController();
  const running = run(flow, { clock, epochInterval: 0, signal: stop.signal });
  await until(() => out.length === 1, "the first poll");
  await turns();
  stop.abort();
  assertEquals((await within(2_000, running, "the stopped run")).status, "stopped");
  assertEquals([out, polls, clock.now()], [[0], [0], 0]);
});

Deno.test("a stop drains mapAsync calls in flight, writes their results and reads nothing more", async () => {
  const calls = new Map<number, ReturnType<typeof deferred<string>>>();
  const out: string[] = [];
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1, 2, TestingSource.PAUSE(1_000), 3, 4], { batchSize: 2 }))
    .pipe(mapAsync("slow", (x: number) => {
      const d = deferred<string>();
      calls.set(x, d);
      return d.promise;
    }))
    .output("out", new TestingSink(out));
  const clock = new TestClock({ start: 0, autoAdvance: false });
  const stop = new AbortController();
  const running = run(flow, { clock, epochInterval: 10_000, signal: stop.signal });
  await until(() => calls.size === 2, "two calls in flight");
  stop.abort();
  // The pause is over: a run that still read would call the mapper with 3 and 4 now.
  clock.advance(1_000);
  assertEquals(await settled(running), false, "the stop must wait for the calls in flight");
  calls.get(2)!.resolve("two");
  calls.get(1)!.resolve("one");
  assertEquals(await within(2_000, running, "the stopped run"), { status: "stopped", epoch: 1 });
  assertEquals(out, ["one", "two"]);
  assertEquals([...calls.keys()], [1, 2]);
});

Deno.test("a call failing while the stop drains rejects the run as usual, naming the step", async () => {
  const calls = new Map<number, ReturnType<typeof deferred<number>>>();
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1, TestingSource.PAUSE(1_000), 2]))
    .pipe(mapAsync("slow", (x: number) => {
      const d = deferred<number>();
      calls.set(x, d);
      return d.promise;
    }))
    .output("out", new TestingSink([]));
  const clock = new TestClock({ start: 0, autoAdvance: false });
  const stop = new AbortController();
  const running = run(flow, { clock, epochInterval: 10_000, signal: stop.signal });
  running.catch(() => {});
  await until(() => calls.size === 1, "the call in flight");
  stop.abort();
  clock.advance(1_000);
  await turns();
  calls.get(1)!.reject(new RangeError("lookup failed"));
  const err = await assertRejects(
    () => within(2_000, running, "the failing run"),
    DataflowError,
    'Step "f.slow" failed: lookup failed',
  );
  assertInstanceOf(err.cause, RangeError);
  assertEquals([...calls.keys()], [1]); // 2 was never read
});

Deno.test("a signal aborted before the run starts: nothing is built, read, written or committed", async () => {
  await withDir(async (dir) => {
    const log: string[] = [];
    const source: FixedPartitionedSource<number, number> = {
      listParts: () => (log.push("listParts"), ["p"]),
      buildPart: () => {
        log.push("buildPart");
        return { nextBatch: () => (log.push("nextBatch"), EOF), snapshot: () => 0 };
      },
    };
    const sink: DynamicSink<number> = {
      build: () => (log.push("build sink"), { writeBatch: () => {} }),
    };
    const flow = new Dataflow("f");
    flow.input("inp", source).output("out", sink);
    const backend = fsBackend(`${dir}/store`);
    const summary = await run(flow, {
      signal: AbortSignal.abort(),
      recovery: { backend, create: true },
    });
    assertEquals(summary, { status: "stopped", epoch: 1, resumedFrom: 0 });
    assertEquals(log, []);
    assertEquals((await inspectStore(fsBackend(`${dir}/store`))).lastEpoch, 0);
  });
});

Deno.test("run rejects a signal that is not an AbortSignal", async () => {
  const flow = new Dataflow("f");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
  await assertRejects(
    () => run(flow, { signal: {} as AbortSignal }),
    TypeError,
    "signal must be an AbortSignal, got an object",
  );
  await assertRejects(
    () => run(flow, { signal: "stop" as unknown as AbortSignal }),
    TypeError,
    "signal must be an AbortSignal, got string",
  );
});

Deno.test("a batch in flight at the stop is taken; the resumed run continues after it", async () => {
  await withDir(async (dir) => {
    // Two batches from an asynchronous source: [1, 2, 3] (in flight at the stop), then [4, 5].
    let inFlight: ReturnType<typeof deferred<number[]>> | undefined;
    const data = [[1, 2, 3], [4, 5]];
    const source: FixedPartitionedSource<number, number> = {
      listParts: () => ["p"],
      buildPart: (_s, _p, resume) => {
        let b = resume ?? 0;
        return {
          nextBatch: () => {
            if (b >= data.length) return EOF;
            inFlight = deferred<number[]>();
            const items = data[b++]!;
            return inFlight.promise.then(() => items);
          },
          snapshot: () => b,
        };
      },
    };
    const out: number[] = [];
    const flow = new Dataflow("f");
    flow.input("inp", source).output("out", new TestingSink(out));
    const recovery = () => ({ backend: fsBackend(`${dir}/store`), create: true });
    const stop = new AbortController();
    const running = run(flow, {
      clock: new TestClock(),
      epochInterval: 10_000,
      signal: stop.signal,
      recovery: recovery(),
    });
    await until(() => inFlight !== undefined, "the first batch in flight");
    stop.abort();
    await turns();
    assertEquals(await settled(running), false, "the stop must wait for the batch in flight");
    inFlight!.resolve([]);
    assertEquals(await within(2_000, running, "the stopped run"), {
      status: "stopped",
      epoch: 1,
      resumedFrom: 0,
    });
    assertEquals(out, [1, 2, 3]);
    // The resumed run reads the second batch only: nothing lost, nothing repeated.
    inFlight = undefined;
    const resumed = run(flow, { clock: new TestClock(), recovery: recovery() });
    await until(() => inFlight !== undefined, "the second batch in flight");
    inFlight!.resolve([]);
    const summary = await within(2_000, resumed, "the resumed run");
    assertEquals([summary.status, summary.resumedFrom], ["eof", 1]);
    assertEquals(out, [1, 2, 3, 4, 5]);
  });
});

// Event times 1..n, keys a and b; tumbling windows of 10: counts per window and key, and a
// running sum per key.
type Ev = { k: string; t: number };
interface Outs {
  windows: [string, [number, number]][];
  sums: [string, number][];
}
const outs = (): Outs => ({ windows: [], sums: [] });

function windowedFlow(items: Array<Ev | TestingMarker>, out: Outs, onT14?: () => void) {
  const flow = new Dataflow("win");
  const events = flow.input("inp", new TestingSource(items))
    .pipe(inspect("watch", (_id, e: Ev) => e.t === 14 && onT14?.()));
  const { down } = countWindow("per_window", events, {
    clock: new EventClock((e: Ev) => e.t, { waitFor: 0 }),
    windower: new TumblingWindower(10, 0),
    keyFn: (e) => e.k,
  });
  down.output("windows", new TestingSink(out.windows));
  events.pipe(
    keyOn("key", (e: Ev) => e.k),
    statefulMap("sum", (s: number | undefined, e: Ev) => [(s ?? 0) + e.t, (s ?? 0) + e.t]),
  ).output("sums", new TestingSink(out.sums));
  return flow;
}

Deno.test("a stop leaves windows open and state resumable (an EOF closes them)", async () => {
  const events: Ev[] = Array.from({ length: 25 }, (_, i) => ({ k: i % 2 ? "a" : "b", t: i + 1 }));
  // Uninterrupted: every window, each key's running sums.
  const whole = outs();
  await run(windowedFlow(events, whole), { clock: new TestClock(), epochInterval: 0 });
  // EOF after t = 14 closes the open windows [10, 20) of a (10, 12, 14) and b (11, 13).
  const atEof = outs();
  await run(windowedFlow([...events.slice(0, 14), TestingSource.EOF()], atEof), {
    clock: new TestClock(),
    epochInterval: 0,
  });
  assertEquals(atEof.windows, [["a", [0, 4]], ["b", [0, 5]], ["a", [1, 3]], ["b", [1, 2]]]);
  await withDir(async (dir) => {
    const recovery = () => ({ backend: fsBackend(`${dir}/store`), create: true });
    const out = outs();
    const stop = new AbortController();
    const stopped = await run(windowedFlow(events, out, () => stop.abort()), {
      clock: new TestClock(),
      epochInterval: 10_000,
      signal: stop.signal,
      recovery: recovery(),
    });
    assertEquals(stopped, { status: "stopped", epoch: 1, resumedFrom: 0 });
    // The same items as the EOF run; the windows that only EOF closed stay open.
    assertEquals(out.sums, atEof.sums);
    assertEquals(out.windows, [["a", [0, 4]], ["b", [0, 5]]]);
    // The resumed run continues: together, exactly the uninterrupted run's output.
    const resumed = await run(windowedFlow(events, out), {
      clock: new TestClock(),
      epochInterval: 0,
      recovery: recovery(),
    });
    assertEquals([resumed.status, resumed.resumedFrom], ["eof", 1]);
    assertEquals(out, whole);
  });
});

Deno.test("a stop asked during an activation that ends an epoch commits that epoch and no other", async () => {
  await withDir(async (dir) => {
    const out: number[] = [];
    const stop = new AbortController();
    const flow = new Dataflow("f");
    flow.input("inp", new TestingSource([1, 2, 3, 4]))
      .pipe(inspect("watch", (_id, x: number) => x === 2 && stop.abort()))
      .output("out", new TestingSink(out));
    // epochInterval 0: each activation (one item) is an epoch; 2 is read in epoch 2.
    const summary = await run(flow, {
      clock: new TestClock(),
      epochInterval: 0,
      signal: stop.signal,
      recovery: { backend: fsBackend(`${dir}/store`), create: true },
    });
    assertEquals(summary, { status: "stopped", epoch: 2, resumedFrom: 0 });
    assertEquals(out, [1, 2]);
    assertEquals((await inspectStore(fsBackend(`${dir}/store`))).lastEpoch, 2);
  });
});

Deno.test("a stop whose batch in flight turns out to be EOF finishes the run as at EOF", async () => {
  let inFlight: ReturnType<typeof deferred<void>> | undefined;
  let served = false;
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p"],
    buildPart: () => ({
      nextBatch: () => {
        if (!served) return (served = true, [1]);
        inFlight = deferred<void>();
        return inFlight.promise.then(() => EOF);
      },
      snapshot: () => 0,
    }),
  };
  const out: [string, number][] = [];
  const flow = new Dataflow("f");
  flow.input("inp", source)
    .pipe(
      keyOn("k", () => "k"),
      statefulMap("n", (n: number | undefined) => [(n ?? 0) + 1, n ?? 0]),
    )
    .output("out", new TestingSink(out));
  const stop = new AbortController();
  const running = run(flow, { clock: new TestClock(), signal: stop.signal });
  await until(() => inFlight !== undefined, "the batch in flight");
  stop.abort();
  await turns();
  inFlight!.resolve();
  assertEquals(await within(2_000, running, "the run"), { status: "eof", epoch: 1 });
  assertEquals(out, [["k", 0]]);
});

Deno.test("a source partition failing to close at a stop fails the run naming the partition", async () => {
  const closed: string[] = [];
  const source: FixedPartitionedSource<number, number> = {
    listParts: () => ["p", "q"],
    buildPart: (_s, name) => ({
      nextBatch: () => [1],
      snapshot: () => 0,
      close: () => {
        closed.push(name);
        if (name === "p") throw new Error("disk gone");
      },
    }),
  };
  const stop = new AbortController();
  const flow = new Dataflow("f");
  flow.input("inp", source)
    .pipe(inspect("watch", () => stop.abort()))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => within(2_000, run(flow, { clock: new TestClock(), signal: stop.signal }), "the run"),
    DataflowError,
    'Step "f.inp" on partition "p": Failed to close: disk gone',
  );
  assertEquals(err.partition, "p");
  assertEquals(closed, ["p", "q"]); // every partition is closed once, as at an ordinary end
});
