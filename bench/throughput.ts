/**
 * Throughput benchmark: the same `map → filter → map` work three ways in one process, a
 * word-split flatMap, and a word count (flatMap split + countFinal), printing ratios (timings on
 * a shared machine are noisy; ratios of alternating rounds in one run are what we compare).
 *
 *   deno task bench:throughput              # 10M items
 *   deno task bench:throughput -- 1000000   # fewer items
 *
 * 1. weir: an in-memory source of pre-built batches → one pipe step → a counting sink.
 * 2. bare RxJS: the same RxJS chain subscribed to a Subject fed item by item, counting in
 *    the subscriber, batch by batch.
 * 3. plain loop: the same arithmetic in a for-loop over the same batches.
 * 4. word count: `flatMap(split)` + `countFinal` vs a loop splitting the same lines and
 *    counting in a `Map` (both emit the counts in sorted key order).
 *
 * @module
 */
import { alternate, median } from "./_rounds.ts";
import { filter, map, Subject } from "rxjs";
import {
  countFinal,
  Dataflow,
  type DynamicSink,
  EOF,
  type FixedPartitionedSource,
  flatMap,
  run,
} from "../mod.ts";

const N = Number(Deno.args.filter((a) => a !== "--")[0] ?? 10_000_000);
const BATCH = 1000;
const ROUNDS = 7;

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

const vocabulary = sentences.join(" ").split(" ");

async function weirWordCount(): Promise<number> {
  let total = 0;
  const flow = new Dataflow("wordcount");
  flow.input("inp", batchSource(lineBatches))
    .pipe(
      flatMap("split", (line: string) => line.split(" ")),
      countFinal("count", (w: string) => w),
    )
    .output("out", {
      build: () => ({
        writeBatch: (kv: [string, number][]) => {
          for (let i = 0; i < kv.length; i++) total += kv[i]![1];
        },
      }),
    });
  await run(flow);
  return total;
}

function loopWordCount(): number {
  const counts = new Map<string, number>();
  for (const b of lineBatches) {
    for (let i = 0; i < b.length; i++) {
      const words = b[i]!.split(" ");
      for (let j = 0; j < words.length; j++) {
        const w = words[j]!;
        counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
  }
  let total = 0;
  for (const [, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) total += c;
  return total;
}

/**
 * Runs `weir` and `loop` alternately for `ROUNDS` rounds (after a warm-up), checks that they
 * agree, and prints the medians of the per-round ratios of wall time and of CPU time.
 */
async function compare<T>(
  name: string,
  weir: () => Promise<T>,
  loop: () => T,
  goal: string,
): Promise<void> {
  const r = await alternate(ROUNDS, weir, loop, (a, b) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Error(`${name}: results differ: ${JSON.stringify([a, b])}`);
    }
  });
  const rounds = r.walls.map((x) => x.toFixed(2)).join(" ");
  console.log(
    `${name.padEnd(36)} weir / ${loop.name.padEnd(13)} = ${median(r.walls)}× wall, ${
      median(r.cpus)
    }× CPU  (${goal}; wall rounds ${rounds})`,
  );
}

const lines = lineBatches.length * BATCH;
console.log(
  `${N.toLocaleString("en")} items; ${
    lines.toLocaleString("en")
  } lines of ${vocabulary.length} words; batches of ${BATCH}; median of ${ROUNDS} alternating rounds:`,
);
await compare("map → filter → map", weirRun, rxjsRun, "goal ≤ 1.5× bare RxJS");
await compare("map → filter → map", weirRun, loopRun, "goal ≤ 3× a plain loop");
await compare("flatMap word split", weirSplit, loopSplit, "split only");
await compare("word count (flatMap + countFinal)", weirWordCount, loopWordCount, "goal ≤ 1.5×");
