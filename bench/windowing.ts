/**
 * Windowing benchmark, two workloads, each against a hand-written loop doing the same per-key
 * watermark and window bookkeeping over the same pre-built batches (median ratio of alternating
 * rounds, by wall-clock time and by the process's CPU time, which a busy machine disturbs less;
 * peak heap of each):
 *
 * 1. a 1-minute tumbling sum per key with an event-time clock (`foldWindow`);
 * 2. a session count per key (`countWindow`, `SessionWindower` with a 1-minute gap, the system
 *    clock frozen by a `TestClock`), over as many events.
 *
 *   deno task bench:windowing              # 10M events each, 10K keys
 *   deno task bench:windowing -- 2000000   # fewer events
 *
 * @module
 */
import {
  countWindow,
  Dataflow,
  EOF,
  EventClock,
  type FixedPartitionedSource,
  foldWindow,
  run,
  SessionWindower,
  TumblingWindower,
} from "../mod.ts";
import { TestClock } from "../src/testing/mod.ts";
import process from "node:process";

// `deno task bench:windowing -- 2000000` passes the "--" through (Deno 2.x): skip it.
const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
const N = Number(args[0] ?? 10_000_000);
const KEYS = 10_000;
const BATCH = 1000;
const ROUNDS = 5;
const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);

type Ev = { t: number; v: number };
const keys = Array.from({ length: KEYS }, (_, i) => `sensor${i}`);
// One event per ms of event time, keys round-robin: each key sees an event every 10 s.
const batches: [string, Ev][][] = [];
for (let i = 0; i < N; i += BATCH) {
  const b: [string, Ev][] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) b.push([keys[j % KEYS]!, { t: T0 + j, v: 1 }]);
  batches.push(b);
}

function source<T>(batches: T[][]): FixedPartitionedSource<T, number> {
  return {
    listParts: () => ["mem"],
    buildPart: (_s, _p, resume) => {
      let i = resume ?? 0;
      return { nextBatch: () => (i < batches.length ? batches[i++]! : EOF), snapshot: () => i };
    },
  };
}

let peak = 0;
const sample = () => {
  const h = Deno.memoryUsage().heapUsed;
  if (h > peak) peak = h;
};

async function weir(): Promise<number> {
  let total = 0;
  let windows = 0;
  const flow = new Dataflow("tumbling_sum");
  flow.input("inp", source(batches)).pipe(
    foldWindow("sum", {
      clock: new EventClock((e: Ev) => e.t, { waitFor: 0 }),
      windower: new TumblingWindower(MINUTE, T0),
      builder: () => 0,
      folder: (acc: number, e: Ev) => acc + e.v,
      merger: (a: number, b: number) => a + b,
      ordered: false,
      late: "fail",
    }),
  ).output("out", {
    build: () => ({
      writeBatch(xs: [string, [number, number]][]) {
        windows += xs.length;
        for (let i = 0; i < xs.length; i++) total += xs[i]![1][1];
        sample();
      },
    }),
  });
  await run(flow);
  if (total !== N) throw new Error(`weir summed ${total}, expected ${N}`);
  return windows;
}

/** The same job by hand: per key a watermark (max timestamp) and open window sums. */
function loop(): number {
  const perKey = new Map<string, { wm: number; open: Map<number, number> }>();
  let total = 0;
  let windows = 0;
  const close = (s: { wm: number; open: Map<number, number> }, wm: number, out: number[]) => {
    for (const [id, sum] of s.open) {
      if (T0 + (id + 1) * MINUTE <= wm) {
        out.push(sum);
        s.open.delete(id);
      }
    }
  };
  for (const b of batches) {
    const out: number[] = [];
    for (let i = 0; i < b.length; i++) {
      const [k, e] = b[i]!;
      let s = perKey.get(k);
      if (s === undefined) perKey.set(k, s = { wm: -Infinity, open: new Map() });
      if (e.t < s.wm) throw new Error("late");
      const id = Math.floor((e.t - T0) / MINUTE);
      s.open.set(id, (s.open.get(id) ?? 0) + e.v);
      if (e.t > s.wm) {
        s.wm = e.t;
        close(s, s.wm, out);
      }
    }
    windows += out.length;
    for (const x of out) total += x;
    sample();
  }
  for (const s of perKey.values()) {
    const out: number[] = [];
    close(s, Infinity, out);
    windows += out.length;
    for (const x of out) total += x;
  }
  if (total !== N) throw new Error(`loop summed ${total}, expected ${N}`);
  return windows;
}

/**
 * Sessions: `SESSION_N` events, keys round-robin, one per ms of event time (each key every
 * 10 s), with a 10-minute pause every 20 events per key: each key has a session of 20 events
 * per 200K events.
 */
const SESSION_N = N;
const GAP = MINUTE;
type Sev = { k: string; t: number };
const sessionBatches: Sev[][] = [];
for (let i = 0; i < SESSION_N; i += BATCH) {
  const b: Sev[] = [];
  for (let j = i; j < Math.min(SESSION_N, i + BATCH); j++) {
    b.push({ k: keys[j % KEYS]!, t: T0 + j + Math.floor(j / (20 * KEYS)) * 10 * MINUTE });
  }
  sessionBatches.push(b);
}

async function weirSessions(): Promise<number> {
  let total = 0;
  let sessions = 0;
  const flow = new Dataflow("session_count");
  flow.input("inp", source(sessionBatches)).pipe(
    countWindow("count", {
      clock: new EventClock((e: Sev) => e.t, { waitFor: 0 }),
      windower: new SessionWindower(GAP),
      keyFn: (e: Sev) => e.k,
      late: "fail",
    }),
  ).output("out", {
    build: () => ({
      writeBatch(xs: [string, [number, number]][]) {
        sessions += xs.length;
        for (let i = 0; i < xs.length; i++) total += xs[i]![1][1];
        sample();
      },
    }),
  });
  await run(flow, { clock: new TestClock({ start: T0, autoAdvance: false }) });
  if (total !== SESSION_N) throw new Error(`weir counted ${total}, expected ${SESSION_N}`);
  return sessions;
}

/** Sessions by hand: per key a watermark (max timestamp) and its open sessions. */
function loopSessions(): number {
  type Session = { open: number; close: number; n: number };
  const perKey = new Map<string, { wm: number; open: Session[] }>();
  let total = 0;
  let sessions = 0;
  const close = (s: { wm: number; open: Session[] }, wm: number, out: number[]) => {
    let kept = 0;
    for (let i = 0; i < s.open.length; i++) {
      const x = s.open[i]!;
      if (x.close < wm - GAP) out.push(x.n);
      else s.open[kept++] = x;
    }
    s.open.length = kept;
  };
  for (const b of sessionBatches) {
    const out: number[] = [];
    for (let i = 0; i < b.length; i++) {
      const e = b[i]!;
      let s = perKey.get(e.k);
      if (s === undefined) perKey.set(e.k, s = { wm: -Infinity, open: [] });
      if (e.t < s.wm) throw new Error("late");
      let into: Session | undefined;
      for (const x of s.open) if (x.open - GAP <= e.t && e.t <= x.close + GAP) into = x;
      if (into === undefined) s.open.push({ open: e.t, close: e.t, n: 1 });
      else {
        into.open = Math.min(into.open, e.t);
        into.close = Math.max(into.close, e.t);
        into.n++;
      }
      if (e.t > s.wm) {
        s.wm = e.t;
        close(s, s.wm, out);
      }
    }
    sessions += out.length;
    for (const x of out) total += x;
    sample();
  }
  for (const s of perKey.values()) {
    const out: number[] = [];
    close(s, Infinity, out);
    sessions += out.length;
    for (const x of out) total += x;
  }
  if (total !== SESSION_N) throw new Error(`loop counted ${total}, expected ${SESSION_N}`);
  return sessions;
}

/** CPU time (user + system) of this process so far, ms. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Alternating rounds of weir and the loop: the median ratios, all ratios, peaks, outputs. */
async function measure(weirRun: () => Promise<number>, loopRun: () => number) {
  await weirRun();
  loopRun();
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  let weirPeak = 0;
  let loopPeak = 0;
  let weirOut = 0;
  let loopOut = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // deno-lint-ignore no-explicit-any
    (globalThis as any).gc?.();
    peak = 0;
    let t = performance.now();
    let c = cpu();
    weirOut = await weirRun();
    const tw = performance.now() - t;
    const cw = cpu() - c;
    weirPeak = Math.max(weirPeak, peak);
    peak = 0;
    t = performance.now();
    c = cpu();
    loopOut = loopRun();
    const tl = performance.now() - t;
    const cl = cpu() - c;
    loopPeak = Math.max(loopPeak, peak);
    ratios.push(tw / tl);
    cpuRatios.push(cw / cl);
  }
  if (weirOut !== loopOut) throw new Error(`outputs differ: ${weirOut} vs ${loopOut}`);
  ratios.sort((a, b) => a - b);
  cpuRatios.sort((a, b) => a - b);
  const median = (rs: number[]) => rs[Math.floor(ROUNDS / 2)]!;
  return {
    median: median(ratios),
    ratios,
    cpuMedian: median(cpuRatios),
    cpuRatios,
    weirPeak,
    loopPeak,
    windows: weirOut,
  };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
const rounds = (rs: number[]) => rs.map((r) => r.toFixed(2)).join(" ");
const tumbling = await measure(weir, loop);
console.log(
  `1-minute tumbling sum, ${N.toLocaleString("en")} events, ${KEYS.toLocaleString("en")} keys, ${
    tumbling.windows.toLocaleString("en")
  } windows:`,
);
console.log(
  `  weir / hand-written loop = ${tumbling.median.toFixed(2)}×  (rounds ${
    rounds(tumbling.ratios)
  }; goal ≤ 2×); CPU time ${tumbling.cpuMedian.toFixed(2)}× (rounds ${rounds(tumbling.cpuRatios)})`,
);
console.log(
  `  peak heap: weir ${mb(tumbling.weirPeak)} MiB, loop ${
    mb(tumbling.loopPeak)
  } MiB (both include the pre-built input batches)`,
);
const session = await measure(weirSessions, loopSessions);
console.log(
  `session count (1-minute gap), ${SESSION_N.toLocaleString("en")} events, ${
    KEYS.toLocaleString("en")
  } keys, ${session.windows.toLocaleString("en")} sessions:`,
);
console.log(
  `  weir / hand-written loop = ${session.median.toFixed(2)}×  (rounds ${
    rounds(session.ratios)
  }; goal ≤ 1.5×); CPU time ${session.cpuMedian.toFixed(2)}× (rounds ${rounds(session.cpuRatios)})`,
);
