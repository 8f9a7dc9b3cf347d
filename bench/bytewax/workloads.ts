/**
 * The four workloads of `deno task bench:bytewax` (bench/bytewax.ts): their deterministic input,
 * the input file the Bytewax side reads, the weir flow as a user writes it, a plain-JS loop doing
 * the same work over the same batches, and the digest of the sorted output lines that all three
 * sides must agree on. `flows.py` holds the Bytewax flows; its constants must match these.
 *
 * @module
 */
import {
  countFinal,
  countWindow,
  Dataflow,
  EOF,
  EventClock,
  type FixedPartitionedSource,
  flatMap,
  foldWindow,
  run,
  SessionWindower,
  statefulMap,
  TumblingWindower,
} from "../../mod.ts";
import { TestClock, TestingSink } from "../../src/testing/mod.ts";

/** The workloads, in the order they run. */
export const WORKLOADS = ["wordcount", "running_sum", "tumbling", "session"] as const;
/** One workload's name (also the argument `flows.py` takes). */
export type Workload = typeof WORKLOADS[number];

/** A line of the table: what the workload does, as Bytewax operators name it. */
export function title(workload: Workload, n: number): string {
  const keys = shape(workload, n).keys.toLocaleString("en");
  switch (workload) {
    case "wordcount":
      return `word count, ${
        VOCABULARY.toLocaleString("en")
      }-word vocabulary (\`flat_map\` + \`count_final\`)`;
    case "running_sum":
      return `keyed running sum, ${keys} keys (\`stateful_map\`)`;
    case "tumbling":
      return `1-minute tumbling window sum, ${keys} keys (\`fold_window\`)`;
    case "session":
      return `session window count (5-minute gap), ${keys} keys (\`count_window\`)`;
  }
}

/** Items per batch, on every side (lines for the word count). */
export const BATCH = 1000;
/** Start of event time (2026-01-01 UTC); also the frozen system time of the window workloads. */
export const T0 = Date.UTC(2026, 0, 1);
/** Tumbling window length (ms). */
export const MINUTE = 60_000;
/** Session gap (ms). */
export const SESSION_GAP = 5 * MINUTE;

const WORDS_PER_LINE = 10;
const VOCABULARY = 10_000;

/**
 * Keys and the event-time step between items at a size. At `full` size: 100K keys for the
 * running sum, 1K for tumbling windows (one event per ms: ~60 per key and window), 50K for
 * sessions (one event per 2 ms: a key every ~100 s on average, so ~5 % of gaps exceed the
 * 5-minute session gap). Smaller sizes keep the items per key and the event-time span, so even
 * the tiny size has several windows and sessions per key.
 */
function shape(workload: Workload, n: number): { keys: number; stepMs: number } {
  switch (workload) {
    case "wordcount":
      return { keys: VOCABULARY, stepMs: 0 };
    case "running_sum":
      return { keys: Math.min(100_000, Math.max(1, Math.floor(n / 10))), stepMs: 0 };
    case "tumbling":
      return {
        keys: Math.min(1_000, Math.max(1, Math.floor(n / 40))),
        stepMs: Math.max(1, Math.floor(80 * MINUTE / n)),
      };
    case "session":
      return {
        keys: Math.min(50_000, Math.max(1, Math.floor(n / 40))),
        stepMs: Math.max(1, Math.floor(4_000_000 / n)),
      };
  }
}

/**
 * Items of each workload (words for the word count) at a size. At `full` each weir run takes
 * ≥ 1 s on the 2-core machine the README's table comes from (the windows take weir's fused
 * paths, ≈ 0.2–0.7 µs per item, hence 5M and 2M events).
 */
export const SIZES: Record<string, Record<Workload, number>> = {
  full: { wordcount: 6_000_000, running_sum: 1_500_000, tumbling: 5_000_000, session: 2_000_000 },
  small: { wordcount: 200_000, running_sum: 100_000, tumbling: 200_000, session: 100_000 },
  tiny: { wordcount: 5_000, running_sum: 5_000, tumbling: 5_000, session: 5_000 },
};

/** An event of the tumbling workload. */
export type Reading = { t: number; v: number };
/** An event of the session workload. */
export type Visit = { user: string; t: number };

/** A workload's input in memory: items (lines, pairs, events) cut in batches of {@linkcode BATCH}. */
export type Input =
  | { workload: "wordcount"; batches: string[][] }
  | { workload: "running_sum"; batches: [string, number][][] }
  | { workload: "tumbling"; batches: [string, Reading][][] }
  | { workload: "session"; batches: Visit[][] };

/** mulberry32: a small seeded generator, so every run builds the same input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A lowercase ASCII word for each index (bijective base 26, at least three letters). */
function wordOf(i: number): string {
  let n = i + 26 * 26 + 26;
  let s = "";
  while (n > 0) {
    n--;
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

function cut<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** Builds a workload's input of `n` items (words for the word count), the same on every call. */
export function generate(workload: Workload, n: number): Input {
  const rnd = prng(0x5eed + WORKLOADS.indexOf(workload));
  const { keys: nKeys, stepMs } = shape(workload, n);
  switch (workload) {
    case "wordcount": {
      const vocabulary = Array.from({ length: VOCABULARY }, (_, i) => wordOf(i));
      const lines: string[] = [];
      for (let i = 0; i < n; i += WORDS_PER_LINE) {
        const words: string[] = [];
        // Skewed towards the first words, as text is.
        for (let j = i; j < Math.min(n, i + WORDS_PER_LINE); j++) {
          const r = rnd();
          words.push(vocabulary[Math.floor(VOCABULARY * r * r)]!);
        }
        lines.push(words.join(" "));
      }
      return { workload, batches: cut(lines) };
    }
    case "running_sum": {
      const keys = Array.from({ length: nKeys }, (_, i) => `k${i}`);
      const items: [string, number][] = [];
      for (let i = 0; i < n; i++) {
        items.push([keys[Math.floor(rnd() * nKeys)]!, 1 + Math.floor(rnd() * 100)]);
      }
      return { workload, batches: cut(items) };
    }
    case "tumbling": {
      const keys = Array.from({ length: nKeys }, (_, i) => `s${i}`);
      const items: [string, Reading][] = [];
      for (let i = 0; i < n; i++) {
        const key = keys[Math.floor(rnd() * nKeys)]!;
        items.push([key, { t: T0 + i * stepMs, v: 1 + Math.floor(rnd() * 100) }]);
      }
      return { workload, batches: cut(items) };
    }
    case "session": {
      const users = Array.from({ length: nKeys }, (_, i) => `u${i}`);
      const items: Visit[] = [];
      for (let i = 0; i < n; i++) {
        items.push({ user: users[Math.floor(rnd() * nKeys)]!, t: T0 + i * stepMs });
      }
      return { workload, batches: cut(items) };
    }
  }
}

/** The input as the text file `flows.py` reads: one item per line, tab-separated fields. */
export function inputText(input: Input): string {
  const parts: string[] = [];
  for (const b of input.batches) {
    const lines: string[] = [];
    switch (input.workload) {
      case "wordcount":
        for (const line of b as string[]) lines.push(line);
        break;
      case "running_sum":
        for (const [k, v] of b as [string, number][]) lines.push(`${k}\t${v}`);
        break;
      case "tumbling":
        for (const [k, e] of b as [string, Reading][]) lines.push(`${k}\t${e.t}\t${e.v}`);
        break;
      case "session":
        for (const e of b as Visit[]) lines.push(`${e.user}\t${e.t}`);
        break;
    }
    parts.push(lines.join("\n") + "\n");
  }
  return parts.join("");
}

/** Counts the items of an input (lines for the word count). */
export function itemCount(input: Input): number {
  let n = 0;
  for (const b of input.batches) n += b.length;
  return n;
}

/** One partition handing out the pre-built batches: the source of the weir side. */
function batchesSource<T>(batches: T[][]): FixedPartitionedSource<T, number> {
  return {
    listParts: () => ["mem"],
    buildPart: (_step, _part, resume) => {
      let i = resume ?? 0;
      return { nextBatch: () => (i < batches.length ? batches[i++]! : EOF), snapshot: () => i };
    },
  };
}

/**
 * The "system" clock of the window workloads: a {@linkcode TestClock} at {@linkcode T0} that
 * moves only when told to (never, here). The scheduler of these runs never sleeps (every poll
 * returns a batch until EOF); if it ever asked to, nothing would wake it, so that fails the run
 * instead of hanging the bench.
 */
class FrozenClock extends TestClock {
  constructor() {
    super({ start: T0, autoAdvance: false });
  }

  override sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    if (at <= this.now() || signal.aborted) return super.sleepUntil(at, signal);
    return Promise.reject(
      new Error(
        `The bench's frozen clock was asked to sleep until ${at} ms while it stays at ` +
          `${this.now()} ms; nothing would wake the run, so a window workload's source must ` +
          `return a batch on every poll until EOF`,
      ),
    );
  }
}

/** An output item of any workload: `[key, count | sum]` or `[key, [windowId, n]]`. */
export type OutputItem = [string, number] | [string, [number, number]];

/**
 * Runs the workload's weir flow, written as a user writes it, and returns its output. The window
 * workloads run on a {@linkcode TestClock} frozen at {@linkcode T0}: nothing in them sleeps,
 * so their "system" time never moves and only event time closes windows (as on the Bytewax
 * side, whose `EventClock` gets a frozen `now_getter`).
 */
export async function runWeir(input: Input): Promise<OutputItem[]> {
  const out: OutputItem[] = [];
  const flow = new Dataflow(input.workload);
  switch (input.workload) {
    case "wordcount":
      flow.input("inp", batchesSource(input.batches))
        .pipe(
          flatMap("split", (line: string) => line.split(" ")),
          countFinal("count", (w: string) => w),
        )
        .output("out", new TestingSink(out));
      await run(flow);
      break;
    case "running_sum":
      flow.input("inp", batchesSource(input.batches))
        .pipe(statefulMap("sum", (sum: number, v: number) => [sum + v, sum + v], { init: 0 }))
        .output("out", new TestingSink(out));
      await run(flow);
      break;
    case "tumbling":
      flow.input("inp", batchesSource(input.batches))
        .pipe(foldWindow("sum", {
          clock: new EventClock((e: Reading) => e.t, { waitFor: 0 }),
          windower: new TumblingWindower(MINUTE, T0),
          builder: () => 0,
          folder: (acc: number, e: Reading) => acc + e.v,
          merger: (a: number, b: number) => a + b,
          late: "drop",
        }))
        .output("out", new TestingSink(out));
      await run(flow, { clock: new FrozenClock() });
      break;
    case "session":
      flow.input("inp", batchesSource(input.batches))
        .pipe(countWindow("count", {
          clock: new EventClock((e: Visit) => e.t, { waitFor: 0 }),
          windower: new SessionWindower(SESSION_GAP),
          keyFn: (e: Visit) => e.user,
          late: "drop",
        }))
        .output("out", new TestingSink(out));
      await run(flow, { clock: new FrozenClock() });
      break;
  }
  return out;
}

/**
 * The same work as {@linkcode runWeir} as a plain loop over the same batches: `Map`s, per-key
 * watermarks and windows by hand, outputs pushed to an array. Throws on a late item (the
 * input has none: event time grows with the item's position).
 */
export function runLoop(input: Input): OutputItem[] {
  const out: OutputItem[] = [];
  switch (input.workload) {
    case "wordcount": {
      const counts = new Map<string, number>();
      for (const b of input.batches) {
        for (let i = 0; i < b.length; i++) {
          const words = b[i]!.split(" ");
          for (let j = 0; j < words.length; j++) {
            const w = words[j]!;
            counts.set(w, (counts.get(w) ?? 0) + 1);
          }
        }
      }
      for (const [w, n] of counts) out.push([w, n]);
      break;
    }
    case "running_sum": {
      const sums = new Map<string, number>();
      for (const b of input.batches) {
        for (let i = 0; i < b.length; i++) {
          const [k, v] = b[i]!;
          const s = (sums.get(k) ?? 0) + v;
          sums.set(k, s);
          out.push([k, s]);
        }
      }
      break;
    }
    case "tumbling": {
      type Key = { wm: number; open: Map<number, number> };
      const keys = new Map<string, Key>();
      const close = (k: string, s: Key, wm: number) => {
        for (const [id, sum] of s.open) {
          if (T0 + (id + 1) * MINUTE <= wm) {
            out.push([k, [id, sum]]);
            s.open.delete(id);
          }
        }
      };
      for (const b of input.batches) {
        for (let i = 0; i < b.length; i++) {
          const [k, e] = b[i]!;
          let s = keys.get(k);
          if (s === undefined) keys.set(k, s = { wm: -Infinity, open: new Map() });
          if (e.t < s.wm) throw new Error(`Late item in the loop: key ${k}, time ${e.t}`);
          const id = Math.floor((e.t - T0) / MINUTE);
          s.open.set(id, (s.open.get(id) ?? 0) + e.v);
          if (e.t > s.wm) {
            s.wm = e.t;
            close(k, s, s.wm);
          }
        }
      }
      for (const [k, s] of keys) close(k, s, Infinity);
      break;
    }
    case "session": {
      type Key = { nextId: number; id: number; close: number; n: number };
      const keys = new Map<string, Key>();
      for (const b of input.batches) {
        for (let i = 0; i < b.length; i++) {
          const e = b[i]!;
          const s = keys.get(e.user);
          if (s === undefined) {
            keys.set(e.user, { nextId: 1, id: 0, close: e.t, n: 1 });
          } else if (e.t < s.close) {
            throw new Error(`Late item in the loop: key ${e.user}, time ${e.t}`);
          } else if (e.t - s.close <= SESSION_GAP) {
            s.close = e.t;
            s.n++;
          } else {
            out.push([e.user, [s.id, s.n]]);
            s.id = s.nextId++;
            s.close = e.t;
            s.n = 1;
          }
        }
      }
      for (const [k, s] of keys) out.push([k, [s.id, s.n]]);
      break;
    }
  }
  return out;
}

/** An output's sorted lines and their SHA-256: what the three sides must agree on. */
export type Digest = { lines: number; sha256: string };

/**
 * The digest of an output: each item as a tab-separated line (`key\tn` or `key\twindowId\tn`),
 * sorted, joined with "\n" plus a final "\n", hashed with SHA-256 (as `flows.py` does).
 */
export async function digest(out: OutputItem[]): Promise<Digest> {
  const lines = new Array<string>(out.length);
  for (let i = 0; i < out.length; i++) {
    const [k, v] = out[i]!;
    lines[i] = typeof v === "number" ? `${k}\t${v}` : `${k}\t${v[0]}\t${v[1]}`;
  }
  lines.sort();
  const text = lines.length === 0 ? "" : lines.join("\n") + "\n";
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const sha256 = Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
  return { lines: out.length, sha256 };
}

/**
 * Throws when a side's digest differs from weir's: the bench must not report speed for outputs
 * that differ.
 */
export function checkSame(workload: Workload, weir: Digest, side: string, other: Digest): void {
  if (weir.sha256 === other.sha256 && weir.lines === other.lines) return;
  throw new Error(
    `Outputs differ on workload "${workload}": ${side}'s sorted output has ${other.lines} lines ` +
      `with SHA-256 ${other.sha256}, weir's ${weir.lines} lines with SHA-256 ${weir.sha256}; ` +
      `they must be identical, so compare the flows in bench/bytewax/workloads.ts and ` +
      `bench/bytewax/flows.py on a small input (deno task bench:bytewax -- --size tiny)`,
  );
}
