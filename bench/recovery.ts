/**
 * Recovery benchmark, ratios measured in one process.
 *
 *   deno task bench:recovery                 # 10M items over 100K hot keys; 1M keys resumed
 *   deno task bench:recovery -- 3000000      # fewer items
 *
 * 1. Throughput with recovery on vs off: a keyed running sum (`statefulMap`, every key
 *    touched in every epoch) over pre-built batches (read 3 times over, so a run spans
 *    several epochs), 1-second epochs, the filesystem backend
 *    in a temporary directory (fsync per commit). Rounds alternate off/on; the median ratio
 *    on/off is printed (goal ≥ 0.85).
 * 2. Resume time for 1M keys: a store holding 1M keys of a `statefulMap` step (written by
 *    one run). Per round, in this order: the time to read the store's bytes from disk
 *    (`Deno.readFile` of every segment), to read and decode them into maps
 *    (`RecoveryStore.load`), the time from `run()` to the first output of a run that resumes
 *    from (a copy of) the store and reads one batch touching 1000 of its keys — goal ≤ 10×
 *    the read (keys are rebuilt lazily: on first use, a share per activation, all at EOF) —
 *    and the time of a resumed run that reads nothing, to EOF (every key rebuilt).
 *
 * @module
 */
import {
  Dataflow,
  type DynamicSink,
  EOF,
  type FixedPartitionedSource,
  run,
  statefulMap,
} from "../mod.ts";
import { fsBackend } from "../src/recovery/deno_fs.ts";
import { RecoveryStore } from "../src/recovery/store.ts";

const N = Number(Deno.args.filter((a) => a !== "--")[0] ?? 10_000_000);
const HOT_KEYS = 100_000;
const RESUME_KEYS = 1_000_000;
const BATCH = 1000;
const ROUNDS = 3;

const keyNames = Array.from({ length: HOT_KEYS }, (_, i) => `key${i}`);
const batches: [string, number][][] = [];
for (let i = 0; i < N; i += BATCH) {
  const b: [string, number][] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) b.push([keyNames[(j * 7919) % HOT_KEYS]!, 1]);
  batches.push(b);
}

/** The batches, `passes` times over. */
function source<T>(data: T[][], passes = 1): FixedPartitionedSource<T, number> {
  const total = data.length * passes;
  return {
    listParts: () => ["mem"],
    buildPart: (_s, _p, resume) => {
      let i = resume ?? 0;
      return {
        nextBatch: () => (i < total ? data[i++ % data.length]! : EOF),
        snapshot: () => i,
      };
    },
  };
}

/** Passes over the batches in the throughput runs, so each run spans several epochs. */
const PASSES = 3;

function countingSink(result: { n: number }): DynamicSink<unknown> {
  return { build: () => ({ writeBatch: (b: unknown[]) => void (result.n += b.length) }) };
}

function sumFlow(data: [string, number][][], result: { n: number }, passes = 1): Dataflow {
  const flow = new Dataflow("bench_recovery");
  flow.input("inp", source(data, passes))
    .pipe(statefulMap("sum", (s: number | undefined, v: number) => {
      const t = (s ?? 0) + v;
      return [t, t];
    }))
    .output("out", countingSink(result));
  return flow;
}

async function timed(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `Recovery throughput: ${N * PASSES} items, ${HOT_KEYS} hot keys, 1 s epochs, filesystem store`,
);
const ratios: number[] = [];
let epochsOn = 0;
for (let r = 0; r < ROUNDS; r++) {
  const off = { n: 0 };
  const tOff = await timed(async () => {
    await run(sumFlow(batches, off, PASSES), { epochInterval: 1000 });
  });
  const dir = await Deno.makeTempDir({ prefix: "weir_bench_recovery_" });
  const on = { n: 0 };
  const tOn = await timed(async () => {
    const s = await run(sumFlow(batches, on, PASSES), {
      epochInterval: 1000,
      recovery: { backend: fsBackend(dir), create: true },
    });
    epochsOn = s.epoch;
  });
  await Deno.remove(dir, { recursive: true });
  if (off.n !== N * PASSES || on.n !== N * PASSES) {
    throw new Error(`Lost items: off ${off.n}, on ${on.n}`);
  }
  ratios.push(tOff / tOn);
  console.log(
    `  round ${r + 1}: throughput on/off ${(tOff / tOn).toFixed(2)} (${epochsOn} epochs)`,
  );
}
console.log(`  median throughput ratio on/off: ${median(ratios).toFixed(2)} (goal >= 0.85)`);

console.log(`\nResume: ${RESUME_KEYS} keys of a statefulMap step`);
const distinct: [string, number][][] = [];
for (let i = 0; i < RESUME_KEYS; i += BATCH) {
  const b: [string, number][] = [];
  for (let j = i; j < Math.min(RESUME_KEYS, i + BATCH); j++) b.push([`user-${j}`, j]);
  distinct.push(b);
}
// After the resume: one batch touching 1000 of the stored keys, spread over all of them.
const touch: [string, number][] = [];
for (let j = 0; j < BATCH; j++) touch.push([`user-${(j * 997) % RESUME_KEYS}`, 1]);
const dir = await Deno.makeTempDir({ prefix: "weir_bench_resume_" });
const recovery = { backend: fsBackend(dir), create: true };
// The data is consumed by the first run; a resumed run's source is past it.
await run(sumFlow(distinct, { n: 0 }), { epochInterval: 1000, recovery });
const work = await Deno.makeTempDir({ prefix: "weir_bench_resume_copy_" });

/** A fresh copy of the store (each resume commits, and would change the next one's store). */
async function copyStore(): Promise<void> {
  await Deno.remove(work, { recursive: true });
  await Deno.mkdir(`${work}/segments`, { recursive: true });
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) await Deno.copyFile(`${dir}/${e.name}`, `${work}/${e.name}`);
  }
  for await (const e of Deno.readDir(`${dir}/segments`)) {
    await Deno.copyFile(`${dir}/segments/${e.name}`, `${work}/segments/${e.name}`);
  }
}

/** Runs a resumed run over a copy of the store: [time to its first output, time to EOF]. */
async function resume(withTouch: boolean): Promise<[number, number]> {
  await copyStore();
  let first = 0;
  const sink: DynamicSink<unknown> = {
    build: () => ({
      writeBatch: () => {
        if (first === 0) first = performance.now();
      },
    }),
  };
  const flow = new Dataflow("bench_recovery");
  flow.input("inp", source(withTouch ? [...distinct, touch] : distinct))
    .pipe(statefulMap("sum", (s: number | undefined, v: number) => {
      const t = (s ?? 0) + v;
      return [t, t];
    }))
    .output("out", sink);
  const t0 = performance.now();
  const s = await run(flow, { epochInterval: 1000, recovery: { backend: fsBackend(work) } });
  const t1 = performance.now();
  if (s.resumedFrom === undefined || (withTouch && first === 0)) {
    throw new Error("the run did not resume");
  }
  return [first - t0, t1 - t0];
}

let bytes = 0;
const firstRatios: number[] = [];
const firstDecodeRatios: number[] = [];
const resumeRatios: number[] = [];
const decodeRatios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const tRead = await timed(async () => {
    bytes = 0;
    for await (const e of Deno.readDir(`${dir}/segments`)) {
      bytes += (await Deno.readFile(`${dir}/segments/${e.name}`)).length;
    }
  });
  const tLoad = await timed(async () => {
    const store = await RecoveryStore.open(recovery, "bench_recovery", Date.now());
    const state = await store.load();
    if (state.get("state:bench_recovery.sum")?.size !== RESUME_KEYS) throw new Error("bad load");
    await store.close();
  });
  const [tFirst] = await resume(true);
  const [, tResume] = await resume(false);
  firstRatios.push(tFirst / tRead);
  firstDecodeRatios.push(tFirst / tLoad);
  resumeRatios.push(tResume / tRead);
  decodeRatios.push(tResume / tLoad);
  console.log(
    `  round ${r + 1}: first output / read bytes ${(tFirst / tRead).toFixed(1)}, ` +
      `first output / read+decode ${(tFirst / tLoad).toFixed(2)}, ` +
      `resume to EOF / read bytes ${(tResume / tRead).toFixed(1)}, ` +
      `resume to EOF / read+decode ${(tResume / tLoad).toFixed(2)}`,
  );
}
console.log(`  store: ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
console.log(
  `  median time to the first output of a resumed run / time to read the bytes: ` +
    `${median(firstRatios).toFixed(1)} (goal <= 10)`,
);
console.log(
  `  median time to the first output of a resumed run / time to read and decode the bytes: ` +
    `${median(firstDecodeRatios).toFixed(2)}`,
);
console.log(
  `  median time of a resumed run to EOF (every key rebuilt) / time to read the bytes: ` +
    `${median(resumeRatios).toFixed(1)}`,
);
console.log(
  `  median time of a resumed run to EOF / time to read and decode them: ` +
    `${median(decodeRatios).toFixed(2)}`,
);
await Deno.remove(dir, { recursive: true });
await Deno.remove(work, { recursive: true });
