/**
 * Parallel runtime benchmark: the same flow on 1 and on 2 workers, in one process, rounds
 * alternating, medians printed as ratios (the machine is shared: wall-clock times drift,
 * ratios within a round much less). Besides the wall-clock speed-up it prints the process's
 * CPU time per run (`process.cpuUsage`, all threads): on a loaded machine, the CPU a run
 * needs is steadier than its wall time; and, on Linux with `-A` (it reads `/proc`), how that
 * CPU split between the two worker threads.
 *
 *   deno task bench:parallel            # 2M items per flow
 *   deno task bench:parallel -- 500000  # fewer
 *
 * 1. cpu map: a stateless map doing ≈ 2 µs of arithmetic per item (its result is summed by
 *    the sink, so V8 cannot drop it); each worker generates its share of the items (a
 *    dynamic source), nothing crosses workers. Goal ≥ 1.7× wall on a quiet machine.
 * 2. word count: `countFinal` over words from a 5,000-word vocabulary, each worker reading
 *    its own share; the count moves across the exchange. Goal ≥ 1.3×.
 * 3. exchange: worker 0 produces `[string, number]` pairs, all owned by worker 1 (a keyed
 *    `foldFinal` without a merge, so nothing is pre-aggregated), so every item crosses the
 *    one link: items/s on the link. Goal ≥ 2 M/s.
 *
 * The flows are exported: every worker imports this module and builds them.
 *
 * @module
 */
import process from "node:process";
import { map } from "rxjs";
import {
  countFinal,
  Dataflow,
  type DynamicSink,
  type DynamicSource,
  EOF,
  foldFinal,
  run,
} from "../mod.ts";
import { keyOwner } from "../src/runtime/exchange.ts";

const BATCH = 1000;

/** Items `[from, to)` of worker `index` of `count`, in batches of 1000 made on the fly. */
function share(n: number, index: number, count: number): [number, number] {
  const per = Math.ceil(n / count);
  return [Math.min(n, index * per), Math.min(n, (index + 1) * per)];
}

function numbers(n: number): DynamicSource<number> {
  return {
    build: (_id, index, count) => {
      let [i, end] = share(n, index, count);
      return {
        nextBatch: () => {
          if (i >= end) return EOF;
          const b: number[] = [];
          for (const stop = Math.min(end, i + BATCH); i < stop; i++) b.push(i);
          return b;
        },
      };
    },
  };
}

/** A sink adding up its items (numbers, or pairs' values) into a global, per worker. */
function summing<T>(): DynamicSink<T> {
  return {
    build: () => ({
      writeBatch(items: T[]) {
        const g = globalThis as { benchSum?: number };
        let s = g.benchSum ?? 0;
        for (let i = 0; i < items.length; i++) {
          const x = items[i];
          s += typeof x === "number" ? x : (x as [string, number])[1];
        }
        g.benchSum = s;
      },
    }),
  };
}

/** ≈ 2 µs of integer arithmetic (xorshift rounds) whose result depends on `x`. */
function work(x: number): number {
  let h = x | 1;
  for (let r = 0; r < 500; r++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
  }
  return h & 0xff;
}

/** Flow 1: a CPU-bound stateless map. */
export function cpuMap(n: number): Dataflow {
  const flow = new Dataflow("cpu_map");
  flow.input("inp", numbers(n)).pipe(map(work)).output("out", summing<number>());
  return flow;
}

/** Flow 2: a word count over a 5,000-word vocabulary. */
export function wordCount(n: number): Dataflow {
  const vocabulary = Array.from({ length: 5000 }, (_, i) => `word${i}`);
  const flow = new Dataflow("word_count");
  const src: DynamicSource<string> = {
    build: (_id, index, count) => {
      let [i, end] = share(n, index, count);
      return {
        nextBatch: () => {
          if (i >= end) return EOF;
          const b: string[] = [];
          // A Zipf-like skew: low word numbers are frequent.
          for (const stop = Math.min(end, i + BATCH); i < stop; i++) {
            const r = ((i * 2654435761) >>> 0) / 4294967296;
            b.push(vocabulary[Math.floor(5000 * r * r * r)]!);
          }
          return b;
        },
      };
    },
  };
  flow.input("inp", src).pipe(countFinal("count", (w: string) => w))
    .output("out", summing<[string, number]>());
  return flow;
}

/** Flow 3: every item produced on worker 0 and reduced on worker 1 (with 2 workers). */
export function exchange(n: number): Dataflow {
  const keys: string[] = [];
  for (let i = 0; keys.length < 100; i++) if (keyOwner(`k${i}`, 2) === 1) keys.push(`k${i}`);
  const flow = new Dataflow("exchange");
  const src: DynamicSource<[string, number]> = {
    build: (_id, index) => {
      let i = index === 0 ? 0 : n;
      return {
        nextBatch: () => {
          if (i >= n) return EOF;
          const b: [string, number][] = [];
          for (const stop = Math.min(n, i + BATCH); i < stop; i++) b.push([keys[i % 100]!, 1]);
          return b;
        },
      };
    },
  };
  flow.input("inp", src).pipe(foldFinal("sum", () => 0, (a: number, b: number) => a + b))
    .output("out", summing<[string, number]>());
  return flow;
}

const FLOWS = { cpuMap, wordCount, exchange } as const;

interface Sample {
  wall: number;
  cpu: number;
  /** CPU ms of each worker thread (from /proc, sampled every 10 ms; empty without -A). */
  split: number[];
}

/** CPU ms (user + system) of the process's threads named `worker-*`, by thread id. */
function workerThreadsCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of Deno.readDirSync("/proc/self/task")) {
      const comm = Deno.readTextFileSync(`/proc/self/task/${t.name}/comm`).trim();
      if (!comm.startsWith("worker-")) continue;
      const stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(t.name, (Number(f[11]) + Number(f[12])) * 10); // clock ticks of 10 ms
    }
  } catch {
    // No /proc (another OS) or no permission (run with -A): no split.
  }
  return out;
}

async function measure(name: keyof typeof FLOWS, n: number, workers: number): Promise<Sample> {
  const flow = FLOWS[name](n);
  const before = new Set(workerThreadsCpu().keys());
  const threads = new Map<string, number>();
  const sampler = workers > 1
    ? setInterval(() => {
      for (const [id, ms] of workerThreadsCpu()) if (!before.has(id)) threads.set(id, ms);
    }, 10)
    : undefined;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(flow, {
    workers,
    epochInterval: 1000,
    ...(workers > 1 ? { module: import.meta.url, export: name, args: [n] } : {}),
  });
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  clearInterval(sampler);
  return { wall, cpu: (c.user + c.system) / 1000, split: [...threads.values()] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (import.meta.main) {
  const n = Number(Deno.args.filter((a) => a !== "--")[0] ?? 2_000_000);
  const rounds = 5;
  console.log(`parallel: ${n} items per flow, ${rounds} rounds, medians`);
  // The fixed cost of a run on workers: spawning them, each importing weir and the flow's
  // module, and the first and last epoch's round trips.
  const startups: number[] = [];
  const startupThread: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = await measure("cpuMap", 1000, 2);
    startups.push(s.wall);
    startupThread.push(...s.split);
  }
  const threadStart = startupThread.length > 0 ? median(startupThread) : 0;
  console.log(
    `start-up   2 workers, 1000 items: ${median(startups).toFixed(0)} ms per run` +
      (startupThread.length > 0 ? `, ${threadStart} ms of CPU per worker thread` : ""),
  );
  for (const name of ["cpuMap", "wordCount", "exchange"] as const) {
    await measure(name, Math.min(n, 100_000), 1); // warm-up
    await measure(name, Math.min(n, 100_000), 2);
    const one: Sample[] = [];
    const two: Sample[] = [];
    for (let r = 0; r < rounds; r++) {
      one.push(await measure(name, n, 1));
      two.push(await measure(name, n, 2));
    }
    const w1 = median(one.map((s) => s.wall));
    const w2 = median(two.map((s) => s.wall));
    const c1 = median(one.map((s) => s.cpu));
    const c2 = median(two.map((s) => s.cpu));
    const speedups = one.map((s, i) => s.wall / two[i]!.wall);
    const startup = median(startups);
    const net = one.map((s, i) => s.wall / Math.max(1, two[i]!.wall - startup));
    let line = `${name.padEnd(10)} 1 worker ${w1.toFixed(0)} ms (cpu ${c1.toFixed(0)} ms), ` +
      `2 workers ${w2.toFixed(0)} ms (cpu ${c2.toFixed(0)} ms, ${(c2 / w2).toFixed(2)} cores ` +
      `busy): wall speed-up ${median(speedups).toFixed(2)}× (${median(net).toFixed(2)}× past ` +
      `start-up), cpu ratio 2w/1w ` +
      `${(c2 / c1).toFixed(2)}`;
    const split = two.at(-1)!.split;
    if (split.length === 2) {
      // The busiest worker's CPU past its start-up, against the whole 1-worker run's CPU.
      const busiest = Math.max(...split) - threadStart;
      line += `; cpu split of the last 2-worker run ${split[0]} / ${split[1]} ms ` +
        `(1 worker's cpu / the busiest worker's past start-up: ${(c1 / busiest).toFixed(2)}×)`;
    }
    if (name === "exchange") {
      line += `; ${(n / ((w2 - startup) / 1000) / 1e6).toFixed(2)} M items/s over the link ` +
        `past start-up`;
    }
    console.log(line);
  }
}
