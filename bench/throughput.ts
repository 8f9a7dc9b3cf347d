/**
 * Throughput benchmark: the same `map → filter → map` work three ways in one process, plus a
 * word-split flatMap, printing ratios (timings on a shared machine are noisy; ratios measured
 * in one run are what we compare).
 *
 *   deno task bench            # 10M items
 *   deno task bench -- 1000000 # fewer items
 *
 * 1. weir: an in-memory source of pre-built batches → one pipe step → a counting sink.
 * 2. bare RxJS: the same RxJS chain subscribed to a Subject fed item by item, counting in
 *    the subscriber, batch by batch.
 * 3. plain loop: the same arithmetic in a for-loop over the same batches.
 *
 * @module
 */
import { filter, map, Subject } from "rxjs";
import {
  Dataflow,
  type DynamicSink,
  EOF,
  type FixedPartitionedSource,
  flatMap,
  run,
} from "../mod.ts";

const N = Number(Deno.args.filter((a) => a !== "--")[0] ?? 10_000_000);
const BATCH = 1000;
const ROUNDS = 3;

const batches: number[][] = [];
for (let i = 0; i < N; i += BATCH) {
  const b: number[] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) b.push(j);
  batches.push(b);
}

function batchSource<T>(data: T[][]): FixedPartitionedSource<T, number> {
  return {
    listParts: () => ["mem"],
    buildPart: (_s, _p, resume) => {
      let i = resume ?? 0;
      return { nextBatch: () => (i < data.length ? data[i++]! : EOF), snapshot: () => i };
    },
  };
}

function countingSink(result: { count: number; sum: number }): DynamicSink<number> {
  return {
    build: () => ({
      writeBatch(items: number[]) {
        result.count += items.length;
        for (let i = 0; i < items.length; i++) result.sum += items[i]!;
      },
    }),
  };
}

async function weirRun(): Promise<{ count: number; sum: number }> {
  const result = { count: 0, sum: 0 };
  const flow = new Dataflow("bench");
  flow.input("inp", batchSource(batches))
    .pipe(map((x: number) => x * 3), filter((x) => x % 2 === 0), map((x) => x + 1))
    .output("out", countingSink(result));
  await run(flow, { epochInterval: 10_000 });
  return result;
}

function rxjsRun(): { count: number; sum: number } {
  const result = { count: 0, sum: 0 };
  const subject = new Subject<number>();
  let buf: number[] = [];
  subject.pipe(map((x: number) => x * 3), filter((x) => x % 2 === 0), map((x) => x + 1))
    .subscribe((x) => buf.push(x));
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) subject.next(b[i]!);
    result.count += buf.length;
    for (let i = 0; i < buf.length; i++) result.sum += buf[i]!;
    buf = [];
  }
  subject.complete();
  return result;
}

function loopRun(): { count: number; sum: number } {
  const result = { count: 0, sum: 0 };
  for (const b of batches) {
    const out: number[] = [];
    for (let i = 0; i < b.length; i++) {
      const x = b[i]! * 3;
      if (x % 2 === 0) out.push(x + 1);
    }
    result.count += out.length;
    for (let i = 0; i < out.length; i++) result.sum += out[i]!;
  }
  return result;
}

const sentences = [
  "the quick brown fox jumps over the lazy dog",
  "to be or not to be that is the question",
];
const lineBatches: string[][] = [];
for (let i = 0; i < N / 10; i += BATCH) {
  const b: string[] = [];
  for (let j = 0; j < BATCH; j++) b.push(sentences[j % 2]!);
  lineBatches.push(b);
}

async function weirSplit(): Promise<number> {
  let words = 0;
  const flow = new Dataflow("split");
  flow.input("inp", batchSource(lineBatches))
    .pipe(flatMap("split", (line: string) => line.split(" ")))
    .output("out", { build: () => ({ writeBatch: (ws: string[]) => void (words += ws.length) }) });
  await run(flow);
  return words;
}

function loopSplit(): number {
  let words = 0;
  for (const b of lineBatches) {
    const out: string[] = [];
    for (const line of b) for (const w of line.split(" ")) out.push(w);
    words += out.length;
  }
  return words;
}

async function time<T>(fn: () => T | Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

async function best<T>(fn: () => T | Promise<T>): Promise<[number, T]> {
  let bestMs = Infinity;
  let result: T | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const [ms, res] = await time(fn);
    if (ms < bestMs) bestMs = ms;
    result = res;
  }
  return [bestMs, result!];
}

await weirRun(); // warm-up
rxjsRun();
loopRun();
const [tWeir, rWeir] = await best(weirRun);
const [tRx, rRx] = await best(rxjsRun);
const [tLoop, rLoop] = await best(loopRun);
if (
  JSON.stringify(rWeir) !== JSON.stringify(rRx) || JSON.stringify(rRx) !== JSON.stringify(rLoop)
) {
  throw new Error(`results differ: ${JSON.stringify([rWeir, rRx, rLoop])}`);
}
await weirSplit();
const [tWs, wWeir] = await best(weirSplit);
const [tLs, wLoop] = await best(loopSplit);
if (wWeir !== wLoop) throw new Error(`word counts differ: ${wWeir} vs ${wLoop}`);

const ns = (ms: number, n: number) => ((ms * 1e6) / n).toFixed(1);
console.log(`map → filter → map over ${N.toLocaleString("en")} items (best of ${ROUNDS}):`);
console.log(`  weir        ${ns(tWeir, N)} ns/item`);
console.log(`  bare RxJS   ${ns(tRx, N)} ns/item`);
console.log(`  plain loop  ${ns(tLoop, N)} ns/item`);
console.log(`  weir / bare RxJS  = ${(tWeir / tRx).toFixed(2)}×   (goal ≤ 1.5×)`);
console.log(`  weir / plain loop = ${(tWeir / tLoop).toFixed(2)}×`);
const lines = lineBatches.length * BATCH;
console.log(
  `flatMap word split over ${lines.toLocaleString("en")} lines (${
    wWeir.toLocaleString("en")
  } words):`,
);
console.log(`  weir / plain loop = ${(tWs / tLs).toFixed(2)}×`);
