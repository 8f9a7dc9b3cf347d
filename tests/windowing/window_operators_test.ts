// Bytewax's pytests/operators/windowing cases on weir's window operators, with a TestClock.
import { assertEquals, assertLess, assertRejects, assertThrows } from "@std/assert";
import {
  collectWindow,
  countWindow,
  Dataflow,
  DataflowError,
  EventClock,
  foldWindow,
  joinWindow,
  keyOn,
  mapValue,
  maxWindow,
  minWindow,
  reduceWindow,
  SessionWindower,
  SlidingWindower,
  type Stream,
  SystemClock,
  TumblingWindower,
  window,
  type Windower,
  type WindowMetadata,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

const T0 = Date.UTC(2024, 0, 1);
const S = 1_000;
type E = { t: number; v: unknown };
const ev = (s: number, v: unknown): E => ({ t: T0 + s * S, v });
const clockOf = (waitFor: number) => new EventClock((e: E) => e.t, { waitFor });

async function run(flow: Dataflow) {
  await runMain(flow, { clock: new TestClock({ start: T0 }) });
}

function keyedAll(flow: Dataflow, items: E[]): Stream<[string, E]> {
  return flow.input("inp", new TestingSource(items)).pipe(keyOn("key", () => "ALL"));
}

Deno.test("collectWindow: contents in timestamp order, windows closed at EOF", async () => {
  const flow = new Dataflow("test_df");
  const out: [string, [number, E[]]][] = [];
  const { down } = collectWindow(
    "add",
    keyedAll(flow, [ev(0, 1), ev(8, 3), ev(4, 2), ev(13, 5), ev(12, 4)]),
    { clock: clockOf(Infinity), windower: new TumblingWindower(10 * S, T0) },
  );
  down.output("out", new TestingSink(out as unknown as [string, [number, unknown]][]));
  await run(flow);
  assertEquals(out.map(([k, [id, es]]) => [k, id, es.map((e) => e.v)]), [
    ["ALL", 0, [1, 2, 3]],
    ["ALL", 1, [4, 5]],
  ]);
});

Deno.test("countWindow on an unkeyed stream: a's window 0 closes when a@12 arrives", async () => {
  const flow = new Dataflow("test_df");
  const evs = [
    { user: "a", t: T0 },
    { user: "a", t: T0 + 4 * S },
    { user: "b", t: T0 + 8 * S },
    { user: "a", t: T0 + 12 * S },
    { user: "a", t: T0 + 13 * S },
  ];
  const out: unknown[] = [];
  const { down } = countWindow("count", flow.input("inp", new TestingSource(evs)), {
    clock: new EventClock((e: { user: string; t: number }) => e.t, { waitFor: 0 }),
    windower: new TumblingWindower(10 * S, T0),
    keyFn: (e) => e.user,
  });
  down.output("out", new TestingSink(out));
  await run(flow);
  assertEquals(out, [["a", [0, 2]], ["a", [1, 2]], ["b", [0, 1]]]);
});

Deno.test("countWindow inside pipe: the same counts, late items by policy, its step ids", async () => {
  type U = { user: string; t: number };
  const evs: U[] = [
    { user: "a", t: T0 },
    { user: "a", t: T0 + 4 * S },
    { user: "b", t: T0 + 8 * S },
    { user: "a", t: T0 + 12 * S },
    { user: "a", t: T0 + 3 * S }, // late: a's watermark is at 12 s
    { user: "a", t: T0 + 13 * S },
  ];
  const base = {
    clock: new EventClock((e: U) => e.t, { waitFor: 0 }),
    windower: new TumblingWindower(10 * S, T0),
    keyFn: (e: U) => e.user,
  };
  const flow = new Dataflow("test_df");
  const out: [string, [number, number]][] = [];
  const seen: [string, number, number][] = [];
  flow.input("inp", new TestingSource(evs))
    .pipe(countWindow("count", { ...base, late: (k, id, e) => seen.push([k, id, e.t - T0]) }))
    .output("out", new TestingSink(out));
  await run(flow);
  assertEquals(out, [["a", [0, 2]], ["a", [1, 2]], ["b", [0, 1]]]);
  assertEquals(seen, [["a", 0, 3 * S]]);
  assertEquals(flow.steps.map((s) => s.id), [
    "test_df.inp",
    "test_df.count",
    "test_df.count.key",
    "test_df.count.count",
    "test_df.count.count.windows",
    "test_df.count.count.results",
    "test_df.out",
  ]);

  const failing = new Dataflow("test_df");
  failing.input("inp", new TestingSource(evs))
    .pipe(countWindow("count", { ...base, late: "fail" }))
    .output("out", new TestingSink([]));
  const err = await assertRejects(
    () => run(failing),
    DataflowError,
    "A late item arrived for window 0",
  );
  assertEquals([err.stepId, err.key], ["test_df.count.count.results", "a"]);

  assertThrows(
    () => countWindow("c", { ...base } as never),
    TypeError,
    'Window step "c" needs options.late: "drop", "fail" or a function',
  );
  assertThrows(
    () => countWindow("c", null as never),
    TypeError,
    'countWindow("c"): options must be an options object, got null',
  );
});

Deno.test("foldWindow: counts per event type in tumbling windows", async () => {
  const flow = new Dataflow("test_df");
  const out: unknown[] = [];
  const { down } = foldWindow(
    "count",
    keyedAll(flow, [ev(0, "login"), ev(4, "post"), ev(8, "post"), ev(16, "post")]),
    {
      clock: clockOf(0),
      windower: new TumblingWindower(10 * S, T0),
      builder: (): Record<string, number> => ({}),
      folder: (acc, e) => ({ ...acc, [e.v as string]: (acc[e.v as string] ?? 0) + 1 }),
      merger: (a, b) => ({ ...a, ...b }),
    },
  );
  down.output("out", new TestingSink(out));
  await run(flow);
  assertEquals(out, [["ALL", [0, { login: 1, post: 2 }]], ["ALL", [1, { post: 1 }]]]);
});

function foldToList(windower: SessionWindower | SlidingWindower, items: E[]) {
  const flow = new Dataflow("test_df");
  const down: unknown[] = [];
  const late: unknown[] = [];
  const meta: unknown[] = [];
  const out = foldWindow("fold", keyedAll(flow, items), {
    clock: clockOf(0),
    windower,
    builder: (): string[] => [],
    folder: (acc, e) => [...acc, e.v as string],
    merger: (a, b) => [...a, ...b],
  });
  out.down.output("down", new TestingSink(down));
  out.late.output("late", new TestingSink(late));
  out.meta.output("meta", new TestingSink(meta));
  return { flow, down, late, meta };
}

Deno.test("foldWindow over sessions (gap 5 s); the late item goes to `late` with id -1", async () => {
  const items = [
    ev(1, "a"),
    ev(5, "b"),
    ev(11, "c"),
    ev(12, "d"),
    ev(13, "e"),
    ev(14, "f"),
    ev(20, "g"),
    ev(1, "h"),
  ];
  const { flow, down, late, meta } = foldToList(new SessionWindower(5 * S), items);
  await run(flow);
  assertEquals(down, [["ALL", [0, ["a", "b"]]], ["ALL", [1, ["c", "d", "e", "f"]]], ["ALL", [2, [
    "g",
  ]]]]);
  assertEquals(late, [["ALL", [-1, ev(1, "h")]]]);
  assertEquals(
    (meta as [string, [number, WindowMetadata]][]).map((
      [, [id, m]],
    ) => [id, m.open - T0, m.close - T0]),
    [
      [0, 1 * S, 5 * S],
      [1, 11 * S, 14 * S],
      [2, 20 * S, 20 * S],
    ],
  );
});

Deno.test("foldWindow over sliding windows (10 s every 5 s); late h@1 reports its two windows", async () => {
  const items = [
    ev(1, "a"),
    ev(4, "b"),
    ev(8, "c"),
    ev(12, "d"),
    ev(13, "e"),
    ev(14, "f"),
    ev(16, "g"),
    ev(1, "h"),
  ];
  const { flow, down, late } = foldToList(new SlidingWindower(10 * S, 5 * S, T0), items);
  await run(flow);
  assertEquals(down, [
    ["ALL", [-1, ["a", "b"]]],
    ["ALL", [0, ["a", "b", "c"]]],
    ["ALL", [1, ["c", "d", "e", "f"]]],
    ["ALL", [2, ["d", "e", "f", "g"]]],
    ["ALL", [3, ["g"]]],
  ]);
  assertEquals(late, [["ALL", [-1, ev(1, "h")]], ["ALL", [0, ev(1, "h")]]]);
});

Deno.test("meta follows each window's results", async () => {
  const flow = new Dataflow("test_df");
  const log: string[] = [];
  const out = foldWindow("fold", keyedAll(flow, [ev(1, "a"), ev(11, "b"), ev(12, "c")]), {
    clock: clockOf(0),
    windower: new TumblingWindower(10 * S, T0),
    builder: () => 0,
    folder: (n) => n + 1,
    merger: (a, b) => a + b,
  });
  const merged = flow.merge(
    "both",
    out.down.pipe(keyOn("d", ([, [id]]) => `down ${id}`)),
    out.meta.pipe(keyOn("m", ([, [id]]) => `meta ${id}`)),
  );
  merged.output("log", {
    build: () => ({ writeBatch: (xs) => void log.push(...xs.map(([k]) => k)) }),
  });
  await run(flow);
  assertEquals(log, ["down 0", "meta 0", "down 1", "meta 1"]);
});

Deno.test("maxWindow / minWindow return whole items; reduceWindow sums", async () => {
  const items = [ev(0, 1), ev(4, 9), ev(8, 3), ev(12, 10), ev(13, 4)];
  for (const [op, expected] of [[maxWindow, [9, 10]], [minWindow, [1, 4]]] as const) {
    const flow = new Dataflow("test_df");
    const out: [string, [number, E]][] = [];
    const { down } = op("x", keyedAll(flow, items), {
      clock: clockOf(0),
      windower: new TumblingWindower(10 * S, T0),
      by: (e: E) => e.v as number,
    });
    down.output("out", new TestingSink(out as unknown as [string, [number, E]][]));
    await run(flow);
    assertEquals(out.map(([, [id, e]]) => [id, e.v]), [[0, expected[0]], [1, expected[1]]]);
  }
  const flow = new Dataflow("test_df");
  const sums: unknown[] = [];
  keyedAll(flow, items.map((e) => ({ ...e, v: 1 }))).pipe(
    reduceWindow("sum", {
      clock: clockOf(0),
      windower: new TumblingWindower(10 * S, T0),
      reducer: (a: E, b: E) => ({ t: a.t, v: (a.v as number) + (b.v as number) }),
      late: "fail",
    }),
  ).output("out", new TestingSink(sums));
  await run(flow);
  assertEquals((sums as [string, [number, E]][]).map(([, [id, e]]) => [id, e.v]), [[0, 3], [1, 2]]);
});

Deno.test("maxWindow / minWindow keep the first arrival among ties, as Bytewax 0.21.1 does", async () => {
  // Ties arrive out of timestamp order: Bytewax's max_window/min_window (an unordered reduce)
  // give a and d (checked with bytewax==0.21.1); the earliest timestamps would be b and e.
  type I = { id: string; v: number; t: number };
  const at = (id: string, v: number, s: number): I => ({ id, v, t: T0 + s * S });
  const items = [at("a", 5, 30), at("b", 5, 10), at("c", 3, 20), at("d", 1, 25), at("e", 1, 15)];
  const winners = async (ordered?: boolean) => {
    const flow = new Dataflow("ties");
    const keyed = flow.input("inp", new TestingSource(items)).pipe(keyOn("key", () => "k"));
    const got: string[] = [];
    for (const [name, op] of [["max", maxWindow], ["min", minWindow]] as const) {
      const opts = {
        clock: new EventClock((i: I) => i.t, { waitFor: 100 * S }),
        windower: new TumblingWindower(60 * S, T0),
        by: (i: I) => i.v,
      };
      const { down } = op(name, keyed, ordered === undefined ? opts : { ...opts, ordered });
      down.pipe(mapValue(`${name}_id`, ([, i]: [number, I]) => `${name}:${i.id}`))
        .output(`out_${name}`, new TestingSink(got as unknown as [string, string][]));
    }
    await run(flow);
    return (got as unknown as [string, string][]).map(([, x]) => x).sort();
  };
  assertEquals(await winners(), ["max:a", "min:d"]);
  assertEquals(await winners(false), ["max:a", "min:d"]);
  // Opting into timestamp order makes the earliest timestamp win.
  assertEquals(await winners(true), ["max:b", "min:e"]);
});

async function joined(
  left: E[],
  right: E[],
  insertMode?: "first" | "last" | "product",
  emitMode?: "complete" | "final" | "running",
) {
  const flow = new Dataflow("test_df");
  const l = flow.input("l", new TestingSource(left)).pipe(keyOn("kl", () => "ALL"));
  const r = flow.input("r", new TestingSource(right)).pipe(keyOn("kr", () => "ALL"));
  const out: [string, [number, (E | undefined)[]]][] = [];
  const { down } = joinWindow("join", [l, r], {
    clock: clockOf(Infinity),
    windower: new SessionWindower(10 * S),
    insertMode,
    emitMode,
  });
  down.output("out", new TestingSink(out as unknown as [string, [number, unknown]][]));
  await run(flow);
  return out.map(([, [, vs]]) => vs.map((e) => e?.v));
}

Deno.test("joinWindow modes (Bytewax's cases, session gap 10 s, values in timestamp order)", async () => {
  assertEquals(await joined([ev(0, 1)], [ev(2, 3), ev(1, 2)], "first", "complete"), [[1, 2]]);
  assertEquals(await joined([ev(0, 1)], [ev(1, 2)], "last", "complete"), [[1, 2]]);
  assertEquals(await joined([ev(0, 1)], [ev(1, 2), ev(2, 3)], "last", "final"), [[1, 3]]);
  assertEquals(await joined([ev(0, 1)], [ev(1, 2), ev(2, 3)]), [[1, 3]]);
  assertEquals(await joined([ev(0, 1)], [ev(1, 2), ev(2, 3)], "last", "running"), [
    [1, undefined],
    [1, 2],
    [1, 3],
  ]);
  assertEquals(await joined([ev(0, 1), ev(1, 2)], [ev(1, 3), ev(2, 4)], "product", "final"), [
    [1, 3],
    [1, 4],
    [2, 3],
    [2, 4],
  ]);
});

Deno.test("a session flow on the system-time clock puts range(10) in one window", async () => {
  const flow = new Dataflow("test_df");
  const out: unknown[] = [];
  const { down } = foldWindow(
    "sum",
    flow.input("inp", new TestingSource(Array.from({ length: 10 }, (_, i) => i))).pipe(
      keyOn("key", () => "ALL"),
    ),
    {
      clock: new SystemClock<number>(),
      windower: new SessionWindower(10 * S),
      builder: (): number[] => [],
      folder: (acc, v) => [...acc, v],
      merger: (a, b) => [...a, ...b],
    },
  );
  down.output("out", new TestingSink(out));
  await run(flow);
  assertEquals(out, [["ALL", [0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]]]);
});

Deno.test("windows close on a timer as system time passes, not only at EOF", async () => {
  const flow = new Dataflow("test_df");
  const log: string[] = [];
  const clock = new TestClock({ start: T0 });
  const items = [ev(1, "a"), TestingSource.PAUSE(30 * S), ev(40, "b")];
  const { down } = foldWindow("fold", keyedAll(flow, items as E[]), {
    clock: new EventClock((e: E) => e.t, { waitFor: 2 * S }),
    windower: new TumblingWindower(10 * S, T0),
    builder: (): string[] => [],
    folder: (acc, e) => [...acc, e.v as string],
    merger: (a, b) => [...a, ...b],
  });
  down.output("out", {
    build: () => ({
      writeBatch: (xs) => void log.push(...xs.map(([, [id]]) => `${id}@${(clock.now() - T0) / S}`)),
    }),
  });
  await runMain(flow, { clock });
  // a@1 s arrives at system time 0: watermark -1 s. Window 0 ends at 10 s, which the
  // watermark reaches 11 s later; window 4 (b@40 s, read at 30 s) closes at EOF.
  assertEquals(log, ["0@11", "4@30"]);
});

Deno.test("pipeable forms: late items dropped, failed, or handed to a function", async () => {
  const items = [ev(10, "a"), ev(1, "late")];
  const base = {
    clock: clockOf(0),
    windower: new TumblingWindower(5 * S, T0),
    builder: (): string[] => [],
    folder: (acc: string[], e: E) => [...acc, e.v as string],
    merger: (a: string[], b: string[]) => [...a, ...b],
  };
  const seen: unknown[] = [];
  const flow = new Dataflow("test_df");
  const out: unknown[] = [];
  keyedAll(flow, items).pipe(
    foldWindow("f", { ...base, late: (k, id, e) => seen.push([k, id, e.v]) }),
  )
    .output("out", new TestingSink(out));
  await run(flow);
  assertEquals([out, seen], [[["ALL", [2, ["a"]]]], [["ALL", 0, "late"]]]);

  const failing = new Dataflow("test_df");
  keyedAll(failing, items).pipe(foldWindow("f", { ...base, late: "fail" })).output(
    "out",
    new TestingSink([]),
  );
  const err = await assertRejects(
    () => run(failing),
    DataflowError,
    "A late item arrived for window 0",
  );
  assertEquals([err.stepId, err.key], ["test_df.f.results", "ALL"]);

  assertThrows(
    () => foldWindow("g", { ...base } as never),
    TypeError,
    'Window step "g" needs options.late: "drop", "fail" or a function',
  );
  assertThrows(
    () => window("w", { late: "drop" } as never, () => ({}) as never),
    TypeError,
    "needs options.clock",
  );
});

Deno.test("a key with no open window frees its state; state per key stays bounded", async () => {
  const flow = new Dataflow("test_df");
  let built = 0;
  const n = 5_000;
  const items: [string, E][] = Array.from({ length: n }, (_, i) => [`k${i}`, ev(i, i)]);
  const out: unknown[] = [];
  const { down } = window("w", flow.input("inp", new TestingSource(items, { batchSize: 100 })), {
    clock: clockOf(0),
    windower: new TumblingWindower(1, T0),
  }, () => {
    built++;
    let c = 0;
    return { onValue: () => (c++, []), onMerge: () => [], onClose: () => [c], snapshot: () => c };
  });
  down.output("out", new TestingSink(out));
  await run(flow);
  assertEquals([out.length, built], [n, n]);
});

Deno.test("early results every N values, on their own stream; the final result at close", async () => {
  const flow = new Dataflow("test_df");
  const early: unknown[] = [];
  const down: unknown[] = [];
  const out = foldWindow(
    "sum",
    keyedAll(flow, [ev(0, 1), ev(1, 2), ev(2, 3), ev(3, 4), ev(4, 5)]),
    {
      clock: clockOf(0),
      windower: new TumblingWindower(10 * S, T0),
      builder: () => 0,
      folder: (acc: number, e) => acc + (e.v as number),
      merger: (a, b) => a + b,
      early: { everyItems: 2 },
    },
  );
  out.early.output("early", new TestingSink(early));
  out.down.output("down", new TestingSink(down));
  await run(flow);
  assertEquals(early, [["ALL", [0, 3]], ["ALL", [0, 10]]]);
  assertEquals(down, [["ALL", [0, 15]]]);
});

Deno.test("early results every T ms of system time while windows are open; arrays are copies", async () => {
  const flow = new Dataflow("test_df");
  const early: [string, [number, E[]]][] = [];
  const items = [ev(0, "a"), TestingSource.PAUSE(25 * S), ev(1, "b"), TestingSource.PAUSE(10 * S)];
  const out = collectWindow("c", keyedAll(flow, items as E[]), {
    clock: clockOf(Infinity), // closes only at EOF
    windower: new TumblingWindower(60 * S, T0),
    ordered: false, // ordered mode would hold the values until the watermark passes them
    early: { everyMs: 10 * S },
  });
  out.early.output("early", new TestingSink(early as unknown as [string, [number, unknown]][]));
  await runMain(flow, { clock: new TestClock({ start: T0 }) });
  // Timed early results at 10 s and 20 s (only "a" so far), then 35 s ("a", "b").
  assertEquals(early.map(([, [id, es]]) => [id, (es as E[]).map((e) => e.v)]), [
    [0, ["a"]],
    [0, ["a"]],
    [0, ["a", "b"]],
  ]);
  assertThrows(
    () =>
      foldWindow("bad", keyedAll(new Dataflow("x"), []), {
        ...{ clock: clockOf(0), windower: new TumblingWindower(1, 0) },
        builder: () => 0,
        folder: (a) => a,
        merger: (a) => a,
        early: { everyItems: 0 },
      }),
    RangeError,
    "early.everyItems must be a positive integer, got 0",
  );
});

/**
 * Runs `n` distinct keys, one event each, through a count per window, pausing 20 s of the
 * test clock every 5000 items so timers close the windows; returns how much the reachable
 * heap (measured after full collections, mid-run) grew.
 */
async function reachableGrowth(n: number, windower: Windower, ordered?: boolean): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("Run with --v8-flags=--expose-gc (deno task test does)");
  function* items(): Generator<[string, E] | ReturnType<typeof TestingSource.PAUSE>> {
    for (let i = 0; i < n; i++) {
      // Event time follows the test clock, so each key's watermark passes its window.
      yield [`user${i}`, { t: T0 + Math.floor(i / 5_000) * 20 * S, v: 1 }];
      if (i % 5_000 === 4_999) yield TestingSource.PAUSE(20 * S);
    }
  }
  const flow = new Dataflow("test_df");
  let results = 0;
  let peak = 0;
  const check = Math.max(10_000, Math.floor(n / 10));
  let nextCheck = check;
  const out = foldWindow(
    "count",
    flow.input("inp", new TestingSource(items(), { batchSize: 1000 })),
    {
      clock: clockOf(0),
      windower,
      builder: () => 0,
      folder: (acc: number) => acc + 1,
      merger: (a, b) => a + b,
      ordered,
    },
  );
  out.down.output("out", {
    build: () => ({
      writeBatch: (xs) => {
        results += xs.length;
        if (results >= nextCheck) {
          nextCheck += check;
          gc();
          peak = Math.max(peak, Deno.memoryUsage().heapUsed);
        }
      },
    }),
  });
  gc();
  const before = Deno.memoryUsage().heapUsed;
  await runMain(flow, { clock: new TestClock({ start: T0 }) });
  assertEquals(results, n);
  return peak - before;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

Deno.test("tumbling-window state stays bounded over 200 000 distinct keys", async () => {
  const grown = await reachableGrowth(200_000, new TumblingWindower(10 * S, T0));
  assertLess(grown, 20 * 2 ** 20, `reachable heap grew by ${mib(grown)}`);
});

Deno.test("sessions with time ids free closed keys: memory stays bounded over 1M distinct keys", async () => {
  // State kept for every key would be hundreds of bytes each: ~1 GiB for 1M keys (sequential
  // ids, Bytewax's way, keep it).
  const grown = await reachableGrowth(
    1_000_000,
    new SessionWindower(5 * S, { ids: "time" }),
    false,
  );
  assertLess(grown, 40 * 2 ** 20, `reachable heap grew by ${mib(grown)}`);
});

Deno.test("session time ids: floor(t / gap), unique per key, and a freed key", () => {
  const w = new SessionWindower(10 * S, { ids: "time" }).build(undefined);
  assertEquals(w.openFor(T0 + 95 * S), [Math.floor((T0 + 95 * S) / (10 * S))]);
  assertEquals(w.openFor(T0 + 200 * S), [Math.floor((T0 + 200 * S) / (10 * S))]);
  assertEquals(w.isEmpty(), false);
  w.closeFor(Infinity);
  assertEquals(w.isEmpty(), true);
  assertThrows(
    () => new SessionWindower(1, { ids: "random" as never }),
    RangeError,
    'must be "sequential" or "time"',
  );
});

Deno.test("window operators: something that is not a Stream where one is expected is a TypeError that says so", () => {
  const flow = new Dataflow("f");
  const keyed = keyedAll(flow, []);
  const opts = { clock: clockOf(0), windower: new TumblingWindower(10 * S, T0) };
  const hint = "; did you forget to destructure the result of an operator that returns several " +
    "streams, like branch?";
  const notStream = undefined as unknown as Stream<[string, E]>;
  const fold = {
    builder: () => 0,
    folder: (n: number) => n + 1,
    merger: (a: number, b: number) => a + b,
  };
  const cases: [string, () => unknown][] = [
    ["foldWindow", () => foldWindow("op", notStream, { ...opts, ...fold })],
    ["reduceWindow", () => reduceWindow("op", notStream, { ...opts, reducer: (a: E) => a })],
    ["maxWindow", () => maxWindow("op", notStream, opts)],
    ["minWindow", () => minWindow("op", notStream, opts)],
    ["collectWindow", () => collectWindow("op", notStream, opts)],
    [
      "countWindow",
      () => countWindow("op", notStream as unknown as Stream<E>, { ...opts, keyFn: () => "k" }),
    ],
    [
      "window",
      () =>
        window(
          "op",
          notStream,
          opts,
          () => ({
            onValue: () => [],
            onMerge: () => [],
            onClose: () => [],
            snapshot: () => 0,
          }),
        ),
    ],
    ["joinWindow", () => joinWindow("op", [keyed, notStream], opts)],
  ];
  for (const [op, define] of cases) {
    const what = op === "joinWindow" ? "sides[1]" : "up";
    assertThrows(define, TypeError, `${op}("op"): ${what} must be a Stream, got undefined${hint}`);
  }
  // The record a window operator returns, passed where its .down belongs.
  const out = collectWindow("first", keyed, opts);
  assertThrows(
    () => collectWindow("c", out as unknown as Stream<[string, E]>, opts),
    TypeError,
    'collectWindow("c"): up must be a Stream, got an object holding the streams down, late, ' +
      "meta, early; pass one of them, e.g. .down",
  );
  for (const op of [collectWindow, maxWindow, minWindow] as const) {
    assertThrows(
      () => (op as (id: string, up: unknown, o?: unknown) => unknown)("o", keyed),
      TypeError,
      `${op.name}("o"): options must be an options object, got undefined`,
    );
  }
  assertThrows(
    () => joinWindow("jw", [keyed, keyed], undefined as unknown as typeof opts),
    TypeError,
    'joinWindow("jw"): options must be an options object, got undefined',
  );
});
