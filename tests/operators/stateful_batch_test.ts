import { assertEquals, assertRejects } from "@std/assert";
import { map } from "rxjs";
import { Dataflow, DataflowError } from "../../mod.ts";
import type { StepContext } from "../../src/dataflow/op.ts";
import {
  DISCARD,
  type LogicResult,
  RETAIN,
  statefulBatch,
  type StatefulBatchLogic,
} from "../../src/operators/stateful_batch.ts";
import { QUIET } from "../../src/operators/_per_value_logic.ts";
import { StatefulBatchNode } from "../../src/operators/_stateful_batch_node.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

type Rec = [string, unknown];

Deno.test("statefulBatch groups an activation's items by key in first-arrival order", async () => {
  const calls: [string, number[]][] = [];
  const out: Rec[] = [];
  const flow = new Dataflow("sb");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([["b", 1], ["a", 2], ["b", 3], ["c", 4], ["a", 5]], {
      batchSize: 5,
    }),
  ).pipe(statefulBatch("s", (_resume: unknown, ctx) => ({
    onBatch(values: number[]): LogicResult<number> {
      calls.push([ctx.key, [...values]]);
      return [values.map((v) => v * 10), RETAIN];
    },
    snapshot: () => undefined,
  }))).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(calls, [["b", [1, 3]], ["a", [2, 5]], ["c", [4]]]);
  assertEquals(out, [["b", 10], ["b", 30], ["a", 20], ["a", 50], ["c", 40]]);
});

Deno.test("statefulBatch: discard drops the logic; the next item builds a fresh one", async () => {
  const resumes: unknown[] = [];
  const out: Rec[] = [];
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["k", 1], ["k", 2], ["k", 3]]))
    .pipe(statefulBatch("s", (resume: number | undefined) => {
      resumes.push(resume);
      let n = 0;
      return {
        onBatch(values: number[]) {
          n += values.length;
          return [[n], values[0] === 2 ? DISCARD : RETAIN];
        },
        snapshot: () => n,
      };
    })).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["k", 1], ["k", 2], ["k", 1]]);
  assertEquals(resumes, [undefined, undefined]);
});

Deno.test("statefulBatch: onEof runs for every live key in sorted key order", async () => {
  const out: Rec[] = [];
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["c", 1], ["a", 1], ["b", 1], ["a", 1]]))
    .pipe(statefulBatch("s", () => {
      let n = 0;
      return {
        onBatch(values: number[]) {
          n += values.length;
          return [[], RETAIN];
        },
        onEof: () => [[n], DISCARD],
        snapshot: () => n,
      };
    })).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["a", 2], ["b", 1], ["c", 1]]);
});

Deno.test("statefulBatch timers fire once per notifyAt value, at the clock's time, without sleeping", async () => {
  const out: Rec[] = [];
  const clock = new TestClock({ start: 1_000 });
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, string]>([["k", "x"], TestingSource.PAUSE(60_000)]))
    .pipe(statefulBatch("s", (_r: unknown, ctx) => {
      let at: number | undefined;
      return {
        onBatch() {
          at = ctx.now() + 5_000;
          return [[`item@${ctx.now()}`], RETAIN];
        },
        // Keeps returning the same time after firing: must not fire again.
        onNotify: () => [[`notify@${ctx.now()}`], RETAIN],
        notifyAt: () => at,
        snapshot: () => at,
      };
    })).output("out", new TestingSink(out));
  const started = performance.now();
  await runMain(flow, { clock });
  assertEquals(out, [["k", "item@1000"], ["k", "notify@6000"]]);
  assertEquals(performance.now() - started < 5_000, true);
});

Deno.test("statefulBatch: a timer due at the start of an activation fires before its new items", async () => {
  const log: string[] = [];
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["k", 1], ["k", 2]]))
    .pipe(statefulBatch("s", (_r: unknown, ctx) => {
      let at: number | undefined;
      return {
        onBatch(values: number[]) {
          log.push(`batch ${values}`);
          at = ctx.now();
          return [[], RETAIN];
        },
        onNotify() {
          log.push("notify");
          at = undefined;
          return [[], RETAIN];
        },
        notifyAt: () => at,
        snapshot: () => at,
      };
    })).output("out", new TestingSink([]));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(log, ["batch 1", "notify", "batch 2", "notify"]);
});

Deno.test("statefulBatch: a non-pair item fails naming the step", async () => {
  const flow = new Dataflow("sb");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([["a", 1], 42 as unknown as [string, number]]),
  )
    .pipe(statefulBatch("s", () => ({ onBatch: () => [[], RETAIN], snapshot: () => 0 })))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    "Expected a [key, value] pair",
  );
  assertEquals(err.stepId, "sb.s");
});

Deno.test("statefulBatch: a non-string key fails naming the step", async () => {
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([[1, "v"] as unknown as [string, number]]))
    .pipe(statefulBatch("s", () => ({ onBatch: () => [[], RETAIN], snapshot: () => 0 })))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'with a string key, got [1,"v"]',
  );
  assertEquals(err.stepId, "sb.s");
});

Deno.test("statefulBatch: a malformed onBatch result fails naming the step and key", async () => {
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["a", 1]]))
    .pipe(statefulBatch("s", () => ({
      onBatch: () => [[1], "nope"] as unknown as LogicResult<number>,
      snapshot: () => 0,
    })))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "sb.s" for key "a": onBatch must return [outputs, discard] (an iterable and a boolean), got [[1],"nope"]',
  );
  assertEquals(err.key, "a");
});

Deno.test("statefulBatch: an exception in onBatch carries the key and the original error", async () => {
  const boom = new RangeError("boom");
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["b", 2]]))
    .pipe(statefulBatch("s", (_r: unknown, ctx) => ({
      onBatch() {
        if (ctx.key === "b") throw boom;
        return [[], RETAIN];
      },
      snapshot: () => 0,
    })))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "sb.s" for key "b": onBatch failed: boom',
  );
  assertEquals([err.stepId, err.key, err.cause], ["sb.s", "b", boom]);
});

Deno.test("statefulBatch: a builder that returns no logic fails clearly", async () => {
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["a", 1]]))
    .pipe(statefulBatch("s", () => ({}) as unknown as StatefulBatchLogic<number, number, number>))
    .output("out", new TestingSink([]));
  await assertRejects(
    () => runMain(flow),
    DataflowError,
    "Builder must return a logic object with onBatch and snapshot",
  );
});

Deno.test("statefulBatch: the state registry is per run (no state shared between runs)", async () => {
  const out: Rec[] = [];
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["a", 1]]))
    .pipe(statefulBatch("s", () => {
      let n = 0;
      return {
        onBatch(values: number[]) {
          n += values.length;
          return [[n], RETAIN];
        },
        snapshot: () => n,
      };
    })).output("out", new TestingSink(out));
  await runMain(flow);
  await runMain(flow);
  assertEquals(out.map(([, v]) => v), [1, 2, 1, 2]);
});

Deno.test("statefulBatch: TTL drops idle keys (counted as a discard) and keeps active ones", async () => {
  const out: Rec[] = [];
  const built: string[] = [];
  const flow = new Dataflow("sb");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([
      ["a", 1],
      ["b", 1],
      TestingSource.PAUSE(6_000),
      ["b", 1],
      TestingSource.PAUSE(6_000),
      ["a", 1], // a idle for 12 s > ttl 10 s: fresh state
      ["b", 1], // b idle for 6 s: kept
    ]),
  ).pipe(statefulBatch("s", (_r: unknown, ctx) => {
    built.push(ctx.key);
    let n = 0;
    return {
      onBatch(values: number[]) {
        n += values.length;
        return [[n], RETAIN];
      },
      snapshot: () => n,
    };
  }, { ttl: 10_000 })).output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(out, [["a", 1], ["b", 1], ["b", 2], ["a", 1], ["b", 3]]);
  assertEquals(built, ["a", "b", "a"]);
});

Deno.test("statefulBatch outputs feed a following stateful step in the same activation", async () => {
  const out: Rec[] = [];
  const flow = new Dataflow("sb");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([["a", 1], ["b", 2], ["a", 3]], { batchSize: 3 }),
  )
    .pipe(
      statefulBatch("sum", () => {
        let s = 0;
        return {
          onBatch(values: number[]) {
            for (const v of values) s += v;
            return [[s], RETAIN];
          },
          snapshot: () => s,
        };
      }),
      map(([k, v]): [string, number] => ["all", v + (k === "a" ? 0 : 100)]),
      statefulBatch("collect", () => ({
        onBatch: (values: number[]) => [[values], RETAIN],
        snapshot: () => 0,
      })),
    ).output("out", new TestingSink(out));
  await runMain(flow);
  assertEquals(out, [["all", [4, 102]]]);
});

Deno.test("statefulBatch rejects a bad ttl at definition time", () => {
  let err: unknown;
  try {
    statefulBatch("s", () => ({ onBatch: () => [[], RETAIN], snapshot: () => 0 }), { ttl: 0 });
  } catch (e) {
    err = e;
  }
  assertEquals((err as Error).message, 'statefulBatch("s") needs a ttl > 0 ms, got 0');
});

Deno.test("statefulBatch: onValue folds each value as it arrives; onBatch is not called", async () => {
  const calls: string[] = [];
  const out: Rec[] = [];
  const flow = new Dataflow("sb");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([["b", 1], ["a", 2], ["b", 3], TestingSource.PAUSE(5_000), [
      "a",
      4,
    ]], {
      batchSize: 3,
    }),
  ).pipe(statefulBatch("fold", (_r: unknown, ctx) => {
    let sum = 0;
    let at: number | undefined;
    return {
      onBatch(): LogicResult<number> {
        calls.push("onBatch");
        return [[], RETAIN];
      },
      onValue(v: number) {
        calls.push(`${ctx.key}+${v}`);
        sum += v;
        at = ctx.now() + 1_000;
      },
      onNotify(): LogicResult<number> {
        at = undefined;
        return [[sum], RETAIN];
      },
      onEof: (): LogicResult<number> => [[-sum], DISCARD],
      notifyAt: () => at,
      snapshot: () => sum,
    };
  })).output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock() });
  assertEquals(calls, ["b+1", "a+2", "b+3", "a+4"]);
  // Timers set while folding fire (a and b at 1 s); a's second timer (6 s) is still pending at
  // EOF (5 s), so only onEof reports it; EOF emits in key order.
  assertEquals(out, [["a", 2], ["b", 4], ["a", -6], ["b", -4]]);
});

Deno.test("statefulBatch: an exception in onValue fails naming step and key", async () => {
  const boom = new Error("fold failed");
  const flow = new Dataflow("sb");
  flow.input("inp", new TestingSource<[string, number]>([["k", 1]]))
    .pipe(statefulBatch("s", () => ({
      onBatch: (): LogicResult<number> => [[], RETAIN],
      onValue() {
        throw boom;
      },
      snapshot: () => 0,
    })))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => runMain(flow),
    DataflowError,
    'Step "sb.s" for key "k": onValue failed: fold failed',
  );
  assertEquals(err.cause, boom);
});

Deno.test("statefulBatch: onValue outputs are held and emitted grouped by key; onValuesEnd may discard", async () => {
  const out: Rec[] = [];
  const ends: string[] = [];
  const flow = new Dataflow("sb");
  flow.input(
    "inp",
    new TestingSource<[string, number]>([["b", 1], ["a", 2], ["b", 3], ["a", 4], ["b", 5]], {
      batchSize: 5,
    }),
  ).pipe(statefulBatch("s", (_r: unknown, ctx) => {
    let n = 0;
    return {
      onBatch: (): LogicResult<string> => [["unused"], RETAIN],
      onValue: (v: number) => (n++, v % 2 === 1 ? [`${ctx.key}${v}`] : undefined),
      onValuesEnd(): LogicResult<string> {
        ends.push(`${ctx.key}:${n}`);
        return [[`${ctx.key} end`], ctx.key === "a" ? DISCARD : RETAIN];
      },
      snapshot: () => n,
    };
  })).output("out", new TestingSink(out));
  await runMain(flow);
  // Keys in first-arrival order (b, then a); each key's held outputs, then its end outputs.
  assertEquals(out, [["b", "b1"], ["b", "b3"], ["b", "b5"], ["b", "b end"], ["a", "a end"]]);
  assertEquals(ends, ["b:3", "a:2"]);
});

Deno.test("statefulBatch: QUIET values keep first-arrival order, epoch order and timers", () => {
  let now = 0;
  const failures: unknown[] = [];
  const ctx: StepContext = {
    stepId: "s",
    upstreamId: "u",
    workerIndex: 0,
    workerCount: 1,
    clock: new TestClock(),
    now: () => now,
    epoch: () => 1,
    fail: (err) => void failures.push(err),
    wake() {},
  };
  const out: Rec[] = [];
  const node = new StatefulBatchNode<string, string, number>(
    ctx,
    { next: (x) => void out.push(x), complete() {} },
    (_resume, lctx) => {
      let n = 0;
      let pending = false;
      return {
        // "q" changes state only (QUIET: nothing at the end either); others emit and ask for
        // onValuesEnd.
        onValue(v: string) {
          n++;
          if (v === "q") return QUIET;
          pending = true;
          return [v];
        },
        onValuesEnd(): LogicResult<string> {
          const r: LogicResult<string> = pending ? [[`end${n}`], RETAIN] : [[], RETAIN];
          pending = false;
          return r;
        },
        onBatch: () => [[], RETAIN],
        onNotify: (): LogicResult<string> => [[`notified${n}`], RETAIN],
        notifyAt: () => 1_000 + lctx.key.charCodeAt(0) + n,
        snapshot: () => n,
      };
    },
    undefined,
  );
  for (const [k, v] of [["A", "q"], ["B", "x"], ["C", "q"], ["A", "y"]]) node.next([k!, v!]);
  node.flush(now);
  // A arrived first (quietly), so its outputs come before B's.
  assertEquals(out, [["A", "y"], ["A", "end2"], ["B", "x"], ["B", "end1"]]);
  assertEquals(node.epochChanges(), [["A", 2], ["B", 1], ["C", 1]]);
  // Timers: A at 1 067 (re-read after its last value), B at 1 067, C at 1 068 (read at its
  // quiet value). nextWake may be a lower bound.
  assertEquals(node.nextWake()! <= 1_067, true);
  // A quiet value re-reads the timer at once: C moves to 1 069.
  now = 10;
  node.next(["C", "q"]);
  node.flush(now);
  assertEquals(out.length, 4);
  out.length = 0;
  const fired: Rec[] = [];
  for (now = 1_060; now <= 1_070; now++) {
    node.flush(now);
    fired.push(...out.splice(0).map(([k, v]): Rec => [k, `${v}@${now}`]));
  }
  assertEquals(fired, [["A", "notified2@1067"], ["B", "notified1@1067"], ["C", "notified2@1069"]]);
  assertEquals(failures, []);
});
