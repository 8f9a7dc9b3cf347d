/**
 * Windowing benchmark: a 1-minute tumbling sum per key with an event-time clock, against a
 * hand-written loop doing the same per-key watermark and window bookkeeping, over the same
 * pre-built batches. Median ratio of alternating rounds; peak heap of each.
 *
 *   deno task bench:windowing              # 10M events, 10K keys
 *   deno task bench:windowing -- 2000000   # fewer events
 *
 * @module
 */
import {
  Dataflow,
  EOF,
  EventClock,
  type FixedPartitionedSource,
  foldWindow,
  run,
  TumblingWindower,
} from "../mod.ts";

// `deno task bench:windowing -- 2000000` passes the "--" through (Deno 2.x): skip it.
const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
const N = Number(args[0] ?? 10_000_000);
const KEYS = 10_000;
const BATCH = 1000;
const ROUNDS = 3;
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

function source(): FixedPartitionedSource<[string, Ev], number> {
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
  flow.input("inp", source()).pipe(
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

await weir();
loop();
const ratios: number[] = [];
let weirPeak = 0;
let loopPeak = 0;
let weirWindows = 0;
let loopWindows = 0;
for (let r = 0; r < ROUNDS; r++) {
  // deno-lint-ignore no-explicit-any
  (globalThis as any).gc?.();
  peak = 0;
  let t = performance.now();
  weirWindows = await weir();
  const tw = performance.now() - t;
  weirPeak = Math.max(weirPeak, peak);
  peak = 0;
  t = performance.now();
  loopWindows = loop();
  const tl = performance.now() - t;
  loopPeak = Math.max(loopPeak, peak);
  ratios.push(tw / tl);
}
if (weirWindows !== loopWindows) {
  throw new Error(`windows differ: ${weirWindows} vs ${loopWindows}`);
}
ratios.sort((a, b) => a - b);
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(
  `1-minute tumbling sum, ${N.toLocaleString("en")} events, ${KEYS.toLocaleString("en")} keys, ${
    weirWindows.toLocaleString("en")
  } windows:`,
);
console.log(
  `  weir / hand-written loop = ${ratios[Math.floor(ROUNDS / 2)]!.toFixed(2)}×  (rounds ${
    ratios.map((r) => r.toFixed(2)).join(" ")
  }; goal ≤ 3×)`,
);
console.log(
  `  peak heap: weir ${mb(weirPeak)} MiB, loop ${
    mb(loopPeak)
  } MiB (both include the pre-built input batches)`,
);
