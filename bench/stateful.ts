/**
 * Keyed-state benchmark. Ratios against plain loops over the same pre-built batches, measured
 * in one process: weir and the loop alternate for several rounds and the median ratios of wall
 * time and of CPU time are printed (absolute times on a shared VM drift by ±30 %; ratios within
 * a round drift less, and CPU time is not stretched by other processes' load).
 *
 *   deno task bench:stateful              # 10M items, 100K keys
 *   deno task bench:stateful -- 2000000   # fewer items
 *
 * 1. keyed count: a keyed stream of [key, 1] summed per key with `reduceFinal`, emitted at
 *    EOF, vs `counts.set(k, counts.get(k) + v)` over the same tuples.
 * 2. countFinal: raw keys counted with `countFinal` (keyOn + a counting statefulBatch) vs the
 *    same Map loop over the raw keys.
 * 3. statefulMap: a running count emitted per item vs a loop doing the same Map update and
 *    pushing `[key, count]` per item.
 *
 * @module
 */
import { alternate, median } from "./_rounds.ts";
import {
  countFinal,
  Dataflow,
  type DynamicSink,
  EOF,
  type FixedPartitionedSource,
  reduceFinal,
  run,
  statefulMap,
} from "../mod.ts";

const N = Number(Deno.args.filter((a) => a !== "--")[0] ?? 10_000_000);
const KEYS = 100_000;
const BATCH = 1000;
const ROUNDS = 7;

const keyNames = Array.from({ length: KEYS }, (_, i) => `key${i}`);
// A fixed scramble so consecutive items hit different keys.
const keyBatches: string[][] = [];
for (let i = 0; i < N; i += BATCH) {
  const b: string[] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) b.push(keyNames[(j * 7919) % KEYS]!);
  keyBatches.push(b);
}
const pairBatches: [string, number][][] = keyBatches.map((b) => b.map((k) => [k, 1]));

function source<T>(data: T[][]): FixedPartitionedSource<T, number> {
  return {
    listParts: () => ["mem"],
    buildPart: (_s, _p, resume) => {
      let i = resume ?? 0;
      return { nextBatch: () => (i < data.length ? data[i++]! : EOF), snapshot: () => i };
    },
  };
}

function summingSink(result: { n: number }): DynamicSink<[string, number]> {
  return {
    build: () => ({
      writeBatch(kv: [string, number][]) {
        for (let i = 0; i < kv.length; i++) result.n += kv[i]![1];
      },
    }),
  };
}

async function weirKeyedCount(): Promise<number> {
  const result = { n: 0 };
  const flow = new Dataflow("keyed_count");
  flow.input("inp", source(pairBatches))
    .pipe(reduceFinal("count", (a: number, b: number) => a + b))
    .output("out", summingSink(result));
  await run(flow);
  return result.n;
}

function loopKeyedCount(): number {
  const counts = new Map<string, number>();
  for (const b of pairBatches) {
    for (let i = 0; i < b.length; i++) {
      const [k, v] = b[i]!;
      const c = counts.get(k);
      counts.set(k, c === undefined ? v : c + v);
    }
  }
  let n = 0;
  for (const [, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) n += c;
  return n;
}

async function weirCountFinal(): Promise<number> {
  const result = { n: 0 };
  const flow = new Dataflow("count_final");
  flow.input("inp", source(keyBatches))
    .pipe(countFinal("count", (k: string) => k))
    .output("out", summingSink(result));
  await run(flow);
  return result.n;
}

function loopCountFinal(): number {
  const counts = new Map<string, number>();
  for (const b of keyBatches) {
    for (let i = 0; i < b.length; i++) counts.set(b[i]!, (counts.get(b[i]!) ?? 0) + 1);
  }
  let n = 0;
  for (const [, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) n += c;
  return n;
}

async function weirRunning(): Promise<number> {
  let emitted = 0;
  const flow = new Dataflow("running");
  flow.input("inp", source(pairBatches))
    .pipe(statefulMap("count", (s: number | undefined, v: number): [number, number] => {
      const n = (s ?? 0) + v;
      return [n, n];
    }))
    .output("out", {
      build: () => ({ writeBatch: (kv: unknown[]) => void (emitted += kv.length) }),
    });
  await run(flow);
  return emitted;
}

function loopRunning(): number {
  const counts = new Map<string, number>();
  let emitted = 0;
  for (const b of pairBatches) {
    const out: [string, number][] = [];
    for (let i = 0; i < b.length; i++) {
      const [k, v] = b[i]!;
      const n = (counts.get(k) ?? 0) + v;
      counts.set(k, n);
      out.push([k, n]);
    }
    emitted += out.length;
  }
  return emitted;
}

async function compare(
  name: string,
  weir: () => Promise<number>,
  loop: () => number,
): Promise<void> {
  const r = await alternate(ROUNDS, weir, loop, (a, b) => {
    if (a !== N || b !== N) {
      throw new Error(`${name}: results differ (weir ${a}, loop ${b}, expected ${N})`);
    }
  }, true);
  const ns = (ms: number[]) => ((ms.reduce((x, y) => x + y, 0) * 1e6) / N / ROUNDS).toFixed(0);
  const rounds = r.walls.map((x) => x.toFixed(2)).join(" ");
  console.log(
    `${name.padEnd(34)} weir / plain loop = ${median(r.walls)}× wall, ${median(r.cpus)}× CPU  ` +
      `(wall rounds ${rounds}; ~${ns(r.weirMs)} vs ~${ns(r.loopMs)} ns/item)`,
  );
}

console.log(
  `${N.toLocaleString("en")} items, ${
    KEYS.toLocaleString("en")
  } keys, batches of ${BATCH}, median of ${ROUNDS}:`,
);
await compare("keyed count (reduceFinal)", weirKeyedCount, loopKeyedCount);
await compare("countFinal (keyOn + count)", weirCountFinal, loopCountFinal);
await compare("statefulMap, one output per item", weirRunning, loopRunning);
