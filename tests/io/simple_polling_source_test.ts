import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  AbortExecution,
  Dataflow,
  DataflowError,
  EOF,
  PollRetry,
  SimplePollingSource,
  type StatefulSourcePartition,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink } from "../../src/testing/mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";

const T0500 = Date.UTC(2024, 0, 1, 5, 0, 0);
const MIN = 60_000;

class Fixed extends SimplePollingSource<boolean> {
  retry = false;
  nextItem(): boolean {
    if (this.retry) throw new SimplePollingSource.Retry(5_000);
    return true;
  }
}

function build<T>(
  src: SimplePollingSource<T>,
  clock: TestClock,
): StatefulSourcePartition<T, unknown> {
  return src.buildPart("f.inp", "singleton", undefined, { clock, workerIndex: 0, workerCount: 1 });
}

Deno.test("polling aligned to now: first batch at once, next awake one interval later", () => {
  const clock = new TestClock({ start: T0500 });
  const part = build(new Fixed(30 * MIN, { alignTo: T0500 }), clock);
  assertEquals(part.nextAwake?.(), T0500);
  assertEquals(part.nextBatch(), [true]);
  assertEquals(part.nextAwake?.(), T0500 + 30 * MIN);
});

Deno.test("polling: Retry yields nothing and polls again after its timeout", () => {
  const clock = new TestClock({ start: T0500 });
  const src = new Fixed(30 * MIN, { alignTo: T0500 });
  src.retry = true;
  const part = build(src, clock);
  assertEquals(part.nextBatch(), []);
  assertEquals(part.nextAwake?.(), T0500 + 5_000);
  assertEquals(SimplePollingSource.Retry, PollRetry);
});

Deno.test("polling created between boundaries waits for the next one", () => {
  const clock = new TestClock({ start: T0500 + 15 * MIN });
  const part = build(new Fixed(30 * MIN, { alignTo: new Date(T0500 - 60 * MIN) }), clock);
  assertEquals(part.nextAwake?.(), T0500 + 30 * MIN);
});

Deno.test("polling created exactly on a boundary polls at once; alignTo may be in the future", () => {
  const clock = new TestClock({ start: T0500 });
  assertEquals(
    build(new Fixed(30 * MIN, { alignTo: T0500 - 60 * MIN }), clock).nextAwake?.(),
    T0500,
  );
  assertEquals(
    build(new Fixed(30 * MIN, { alignTo: T0500 + 100 * MIN }), clock).nextAwake?.(),
    T0500 + 10 * MIN,
  );
});

Deno.test("polling in a run: the first poll waits for the boundary, then one per interval", async () => {
  const clock = new TestClock({ start: T0500 + 15 * MIN });
  class Clocked extends SimplePollingSource<number> {
    n = 0;
    nextItem(): number | typeof EOF {
      return this.n++ < 3 ? clock.now() : EOF;
    }
  }
  const out: number[] = [];
  const flow = new Dataflow("poll");
  flow.input("inp", new Clocked(30 * MIN, { alignTo: T0500 })).output("out", new TestingSink(out));
  await runMain(flow, { clock, epochInterval: 7 * MIN });
  assertEquals(out, [T0500 + 30 * MIN, T0500 + 60 * MIN, T0500 + 90 * MIN]);
});

Deno.test("polling: undefined emits nothing; async items work", async () => {
  class Sparse extends SimplePollingSource<string> {
    i = 0;
    async nextItem(): Promise<string | undefined | typeof EOF> {
      await Promise.resolve();
      const i = this.i++;
      return i >= 5 ? EOF : i % 2 === 0 ? `item${i}` : undefined;
    }
  }
  const out: string[] = [];
  const flow = new Dataflow("poll");
  flow.input("inp", new Sparse(1_000)).output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(out, ["item0", "item2", "item4"]);
});

Deno.test("polling with an ABORT once; a second run continues from the object's own index", async () => {
  const ABORT = Symbol("abort");
  class Listed extends SimplePollingSource<string, number> {
    index = 0;
    aborted = false;
    constructor(readonly items: (string | typeof ABORT)[]) {
      super(0);
    }
    nextItem(): string | typeof EOF {
      if (this.index >= this.items.length) return EOF;
      const item = this.items[this.index++]!;
      if (item === ABORT) {
        if (!this.aborted) {
          this.aborted = true;
          throw new AbortExecution();
        }
        return this.nextItem();
      }
      return item;
    }
    override snapshot(): number {
      return this.index;
    }
    override resume(state: number): void {
      this.index = state;
    }
  }
  const src = new Listed(["a", "b", ABORT, "c"]);
  const out: string[] = [];
  const flow = new Dataflow("poll");
  flow.input("inp", src).output("out", new TestingSink(out));
  assertEquals((await runMain(flow, { clock: new TestClock() })).status, "aborted");
  assertEquals(out, ["a", "b"]);
  out.length = 0;
  assertEquals((await runMain(flow, { clock: new TestClock() })).status, "eof");
  assertEquals(out, ["c"]);
  // resume() receives the snapshot when a run resumes from one.
  const fresh = new Listed(["x", "y", "z"]);
  const part = fresh.buildPart("f.inp", "singleton", 2, {
    clock: new TestClock(),
    workerIndex: 0,
    workerCount: 1,
  });
  assertEquals(part.nextBatch(), ["z"]);
  assertEquals(part.snapshot(), 3);
});

Deno.test("polling with recovery: a new source object resumes from the stored position", async () => {
  class Counter extends SimplePollingSource<number, number> {
    n = 0;
    constructor(readonly abortAt: number | undefined) {
      super(0);
    }
    nextItem(): number | typeof EOF {
      if (this.n === this.abortAt) {
        this.n++; // the item at abortAt is lost with the aborted run, then re-read
        throw new AbortExecution();
      }
      return this.n < 5 ? this.n++ : EOF;
    }
    override snapshot(): number {
      return this.n;
    }
    override resume(state: number): void {
      this.n = state;
    }
  }
  const dir = await Deno.makeTempDir();
  try {
    const recovery = { backend: fsBackend(dir), create: true };
    const make = (abortAt: number | undefined, out: number[]) => {
      const flow = new Dataflow("poll_recovery");
      flow.input("inp", new Counter(abortAt)).output("out", new TestingSink(out));
      return flow;
    };
    const first: number[] = [];
    const opts = { clock: new TestClock(), epochInterval: 0, recovery };
    assertEquals((await runMain(make(3, first), opts)).status, "aborted");
    assertEquals(first, [0, 1, 2]);
    // A new process: a new source object, with no index of its own: the store has it.
    const second: number[] = [];
    assertEquals((await runMain(make(undefined, second), opts)).status, "eof");
    assertEquals(second, [3, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("polling: nextItem throwing fails the run naming partition 'singleton'", async () => {
  const boom = new Error("api down");
  class Broken extends SimplePollingSource<string> {
    nextItem(): string {
      throw boom;
    }
  }
  const flow = new Dataflow("poll");
  flow.input("inp", new Broken(1_000)).output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow, { clock: new TestClock() }), DataflowError);
  assertEquals([err.stepId, err.partition, err.cause], ["poll.inp", "singleton", boom]);
});

Deno.test("polling: bad intervals and retries are rejected", () => {
  assertThrows(() => new Fixed(-1), RangeError, "interval must be >= 0 ms, got -1");
  assertThrows(() => new PollRetry(-5), RangeError, "Retry needs a timeout >= 0 ms, got -5");
});
