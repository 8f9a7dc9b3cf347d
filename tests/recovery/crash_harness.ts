/**
 * Crash-test harness: runs the flow of `fixtures/crash_flow.ts` as a real process, SIGKILLs it
 * at seeded random moments, restarts it against the same recovery store and output until a run
 * exits normally, and compares the output with an uninterrupted run's, byte for byte.
 *
 * {@linkcode crashRun}:
 * 1. writes a deterministic input file (seeded PRNG: `seq,key,value` lines, skewed keys);
 * 2. runs the flow uninterrupted in a subprocess into a reference directory with its own store
 *    (the expected output is never hard-coded) and measures it: time to its first output byte
 *    (start-up: module loading, store creation, first batch) and total time;
 * 3. spawns the flow against a fresh store and output, kills it with SIGKILL, restarts it…
 *    Each kill picks one of five moments (seeded):
 *    - `early`: a delay within the start-up time — before the run's first commit (module
 *      loading, store load, resume truncation, first batches);
 *    - `timed`: a delay spread over the work the run still has to do (estimated from how much
 *      of the expected output exists) — mid-epoch, mid-write, mid-commit alike;
 *    - `write`: after such a delay, the instant the output grows — right after a sink's write,
 *      typically during its fdatasync and before the epoch commits;
 *    - `commit`: after such a delay, the instant a segment's temporary file appears in the
 *      store — inside an epoch's commit (or a compaction), between its write, fsync and rename.
 *      With Deno KV, inside a segment written by several commits (each key's state is padded
 *      so that segments exceed the 720 KiB a commit carries): half of the time between two
 *      chunk commits, half of the time after the last chunk commit and before the commit of
 *      the segment's record. The flow stops itself right there (`WEIR_CRASH_KV_STOP`, see
 *      fixtures/crash_flow.ts) and says so on stderr; the harness SIGKILLs it;
 *    - `eof`: the instant the output reaches its final size, plus 0–2 ms (half of the time)
 *      or 0–5 ms — during the final EOF epoch's commit, the sinks' close or the store's last
 *      compaction, or after all that, just before the process exits. Only the last three kills
 *      may take this mode, since one that comes too late finds the run finished.
 *    A process must die of the signal (`status.signal === "SIGKILL"`); any other exit than
 *    success is an error (with the process's stderr). A kill sent after the process already
 *    finished does not count as an interruption. After `kills` interruptions the last run is
 *    left to finish;
 * 4. compares every output file with the reference: file set, bytes, and per file the lines
 *    lost, duplicated and unexpected (multisets) and the first differing line.
 *
 * @module
 */
import type { RunningSink } from "./fixtures/crash_flow.ts";
import { rng } from "../_rng.ts";

/** Options of {@linkcode crashRun}. */
export interface CrashRunOptions {
  /** Seeds the input and every kill decision. */
  readonly seed: number;
  /** How many runs to interrupt with SIGKILL before letting one finish. */
  readonly kills: number;
  /** Input lines (default 20 000: an uninterrupted run takes ~1–2 s). */
  readonly lines?: number;
  /** Distinct keys (default 37, skewed: a few hot keys). */
  readonly keys?: number;
  /** Epoch interval of the flow in ms (default 30). */
  readonly epochMs?: number;
  /** Sink of the running aggregates (default: `"file"` for even seeds, `"dir"` for odd). */
  readonly sink?: RunningSink;
  /**
   * The recovery backend (default `"fs"`). With `"kv"` (Deno KV), `commit` kills land
   * between a segment's chunk commits or before its record commit, and kills are not
   * classified by the store's epochs.
   */
  readonly store?: "fs" | "kv";
  /**
   * With `"kv"`: bytes of padding in each key's state (default 24 KiB), so that segments
   * of 30 keys or more (every base) span several commits.
   */
  readonly kvPad?: number;
  /**
   * With `"kv"`: the store's lease time (default 200 ms: a restart waits about that long).
   * Short is safe here: runs never overlap, so no run can lose its claim.
   */
  readonly kvLeaseMs?: number;
  /**
   * Workers running the flow (default 1). With more, lines of different keys interleave
   * differently from run to run, so output files are compared as sorted lines (the running
   * sums and counts still prove each key's order: a line out of order has other sums).
   */
  readonly workers?: number;
  /** Keep the working directory when the output differs (default true). */
  readonly keepOnFailure?: boolean;
  /** Progress messages (default: none). */
  readonly log?: (message: string) => void;
}

/** How a kill's moment was chosen (see the module documentation). */
export type KillMode = "early" | "timed" | "write" | "commit" | "eof";

/** One process of the crash loop. */
export interface RunRecord {
  /** The mode of the kill aimed at it, or `null` when it was left to finish. */
  readonly mode: KillMode | null;
  /** Whether SIGKILL was sent. */
  readonly killSent: boolean;
  /** Whether the process died of SIGKILL. */
  readonly interrupted: boolean;
  /** Milliseconds from spawn to the kill (or to the exit when no kill was sent). */
  readonly atMs: number;
  /** The run had not committed any epoch when it was killed. */
  readonly beforeFirstCommit: boolean;
  /** The output had its final size when the run was killed (the EOF phase). */
  readonly afterAllOutput: boolean;
  /**
   * The run died inside an atomic segment write, which left its temporary file: `"delta"`
   * (an epoch's commit), `"base"` (folding old epochs), or `null`.
   */
  readonly inSegmentWrite: "delta" | "base" | null;
  /**
   * Deno KV: where in a multi-commit segment write the run was killed: `"chunk"` (between
   * two chunk commits) or `"record"` (after the last chunk commit, before the record's).
   */
  readonly kvStop: "chunk" | "record" | null;
}

/** Per output file: how it differs from the reference. */
export interface FileDiff {
  /** Path relative to the output directory. */
  readonly file: string;
  /** Expected lines missing from the output. */
  readonly lost: number;
  /** Lines present more often than expected. */
  readonly duplicated: number;
  /** Lines the reference does not have at all (e.g. a torn line). */
  readonly unexpected: number;
  /**
   * The first differing line (1-based; 0 when the files differ only in bytes that are not
   * valid UTF-8); `null` stands for the end of the file.
   */
  readonly firstDifference: { line: number; expected: string | null; actual: string | null };
}

/** What {@linkcode crashRun} measured. */
export interface CrashReport {
  readonly seed: number;
  readonly sink: RunningSink;
  /** The recovery backend. */
  readonly store: "fs" | "kv";
  /** Workers running the flow. */
  readonly workers: number;
  readonly lines: number;
  readonly epochMs: number;
  /** Output files of the reference run (relative paths, sorted). */
  readonly files: readonly string[];
  /** Expected output size in bytes. */
  readonly expectedBytes: number;
  /** Lines in the expected output. */
  readonly expectedLines: number;
  /** Wall time of the uninterrupted reference run (spawn to exit). */
  readonly referenceMs: number;
  /** Reference run's time from spawn to its first output byte. */
  readonly startupMs: number;
  /** Processes spawned in the crash loop (the last one finished). */
  readonly runs: number;
  /** Runs restarted after a kill (runs − 1). */
  readonly restarts: number;
  /** SIGKILLs sent. */
  readonly killsSent: number;
  /** Runs that died of SIGKILL. */
  readonly interrupted: number;
  /** Kills that came after the process had finished (not interruptions). */
  readonly killsAfterExit: number;
  /** Interrupted runs that had not committed an epoch. */
  readonly killedBeforeFirstCommit: number;
  /** Interrupted runs killed after the whole output was written (final epoch, close). */
  readonly killedAfterAllOutput: number;
  /** Interrupted runs killed inside a commit's segment write (its temporary file was left). */
  readonly killedInCommitWrite: number;
  /** Interrupted runs killed inside a compaction's base write. */
  readonly killedInBaseWrite: number;
  /** Deno KV: interrupted runs killed between two chunk commits of a segment. */
  readonly killedBetweenChunkCommits: number;
  /** Deno KV: interrupted runs killed after a segment's chunks, before its record commit. */
  readonly killedBeforeRecordCommit: number;
  /** Interruptions per kill mode. */
  readonly byMode: Readonly<Record<KillMode, number>>;
  /** Wall time of the crash loop. */
  readonly crashLoopMs: number;
  /** Every process of the crash loop, in order. */
  readonly history: readonly RunRecord[];
  /** Files whose bytes differ (or that are missing or extra). Empty when all is well. */
  readonly diffs: readonly FileDiff[];
  /** Sum over files. */
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  /** Every output file equals the reference byte for byte, and no file is missing or extra. */
  readonly identical: boolean;
  /** The working directory, when kept. */
  readonly keptDir: string | undefined;
}

const REPO = new URL("../../", import.meta.url).pathname;
const FLOW = new URL("./fixtures/crash_flow.ts", import.meta.url).pathname;
/** A run that takes this long is considered hung and fails the crash run. */
const RUN_TIMEOUT_MS = 120_000;

/** mulberry32: a small, fast, seeded PRNG returning numbers in [0, 1) (`tests/_rng.ts`). */
export const prng: (seed: number) => () => number = rng;

/**
 * Key names: `k<n>`, some with multi-byte UTF-8 characters, so that byte offsets (source
 * position, sink positions) and character counts differ.
 */
export function keyName(n: number): string {
  return `k${n}` + (n % 5 === 1 ? "é" : n % 7 === 2 ? "日本" : n % 11 === 3 ? "🦀" : "");
}

/** The input: `seq,key,value` lines, keys skewed towards k0, values in [-1000, 1000]. */
export function generateInput(seed: number, lines: number, keys: number): string {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const key = keyName(Math.floor(keys * rnd() ** 2));
    const value = Math.floor(rnd() * 2001) - 1000;
    out.push(`${i},${key},${value}\n`);
  }
  return out.join("");
}

/** Relative paths of every file under `dir`, sorted. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  for (const e of entries) {
    const rel = prefix + e.name;
    if (e.isDirectory) out.push(...await listFiles(`${dir}/${e.name}`, rel + "/"));
    else out.push(rel);
  }
  return out.sort();
}

/** Total size of the files under `dir` (a file vanishing meanwhile counts as empty). */
async function outputBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await listFiles(dir)) {
    try {
      n += (await Deno.stat(`${dir}/${f}`)).size;
    } catch {
      // Gone between listing and stat.
    }
  }
  return n;
}

/** Total size of `files` under `dir` (missing ones count as empty): cheaper than a listing. */
async function filesBytes(dir: string, files: readonly string[]): Promise<number> {
  let n = 0;
  for (const f of files) {
    try {
      n += (await Deno.stat(`${dir}/${f}`)).size;
    } catch {
      // Not created yet.
    }
  }
  return n;
}

/** Temporary files of segments being written in the store (a crash may leave them). */
async function segmentTmps(storeDir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(`${storeDir}/segments`)) {
      if (e.name.includes(".weir-tmp-")) out.push(e.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

function tmpKind(name: string | undefined): "delta" | "base" | null {
  return name === undefined ? null : name.startsWith(".base-") ? "base" : "delta";
}

/** The highest epoch any segment of the store completes (0 when none). */
async function storeEpoch(storeDir: string): Promise<number> {
  let max = 0;
  for (const f of await listFiles(`${storeDir}/segments`)) {
    const m = /^(?:delta|base)-(\d+)$/.exec(f);
    if (m !== null) max = Math.max(max, Number(m[1]));
  }
  return max;
}

function spawnFlow(
  input: string,
  outDir: string,
  storeDir: string,
  epochMs: number,
  sink: RunningSink,
  store: "fs" | "kv",
  env: Record<string, string>,
  workers: number,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-kv",
      "--config",
      `${REPO}deno.json`,
      FLOW,
      input,
      outDir,
      storeDir,
      String(epochMs),
      sink,
      store,
      String(workers),
    ],
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describeExit(output: Deno.CommandOutput): string {
  const err = new TextDecoder().decode(output.stderr).trim();
  const out = new TextDecoder().decode(output.stdout).trim();
  return `code ${output.code}, signal ${output.signal}` +
    (err ? `\n--- stderr ---\n${err}` : "") + (out ? `\n--- stdout ---\n${out}` : "");
}

/**
 * The process's output, collected as it comes: `stderr()` is what it wrote so far, and
 * `output` the whole when it exited.
 */
function collect(child: Deno.ChildProcess): {
  output: Promise<Deno.CommandOutput>;
  stderr: () => string;
} {
  const err: Uint8Array[] = [];
  let errText = "";
  const decoder = new TextDecoder();
  const read = async (stream: ReadableStream<Uint8Array>, into: Uint8Array[], text: boolean) => {
    for await (const chunk of stream) {
      into.push(chunk);
      if (text) errText += decoder.decode(chunk, { stream: true });
    }
  };
  const out: Uint8Array[] = [];
  const concat = (parts: Uint8Array[]) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  };
  const output = Promise.all([
    child.status,
    read(child.stdout, out, false),
    read(child.stderr, err, true),
  ]).then(([status]) => ({ ...status, stdout: concat(out), stderr: concat(err) }));
  return { output, stderr: () => errText };
}

/** Runs the flow to completion; returns its wall time and the time to its first output byte. */
async function referenceRun(
  input: string,
  outDir: string,
  storeDir: string,
  epochMs: number,
  sink: RunningSink,
  store: "fs" | "kv",
  env: Record<string, string>,
  workers: number,
): Promise<{ ms: number; startupMs: number }> {
  const t0 = performance.now();
  const child = spawnFlow(input, outDir, storeDir, epochMs, sink, store, env, workers);
  let exited = false;
  const outP = collect(child).output.finally(() => exited = true);
  let startupMs = Number.NaN;
  while (!exited) {
    if (await outputBytes(outDir) > 0) {
      startupMs = performance.now() - t0;
      break;
    }
    await sleep(2);
  }
  const output = await outP;
  const ms = performance.now() - t0;
  if (!output.success) {
    throw new Error(`The uninterrupted reference run failed: ${describeExit(output)}`);
  }
  return { ms, startupMs: Number.isNaN(startupMs) ? ms : startupMs };
}

/** Splits into lines, keeping a last line without its newline apart (marked). */
function splitLines(text: string): string[] {
  const lines = text.split("\n");
  const last = lines.pop()!;
  if (last !== "") lines.push(last + "⟨no newline⟩");
  return lines;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `null` when the bytes are equal; otherwise the line-level differences. */
function diffFile(
  file: string,
  expectedBytes: Uint8Array | null,
  actualBytes: Uint8Array | null,
): FileDiff | null {
  if (sameBytes(expectedBytes, actualBytes)) return null;
  const decoder = new TextDecoder();
  const expected = expectedBytes === null ? null : decoder.decode(expectedBytes);
  const actual = actualBytes === null ? null : decoder.decode(actualBytes);
  const exp = expected === null ? [] : splitLines(expected);
  const act = actual === null ? [] : splitLines(actual);
  const counts = new Map<string, number>();
  for (const l of exp) counts.set(l, (counts.get(l) ?? 0) + 1);
  let duplicated = 0;
  let unexpected = 0;
  for (const l of act) {
    const n = counts.get(l);
    if (n === undefined) unexpected++;
    else if (n === 0) duplicated++;
    else counts.set(l, n - 1);
  }
  let lost = 0;
  for (const n of counts.values()) lost += n;
  let i = 0;
  while (i < exp.length && i < act.length && exp[i] === act[i]) i++;
  if (i === exp.length && i === act.length) {
    // Equal once decoded: the bytes differ in invalid UTF-8.
    return {
      file,
      lost,
      duplicated,
      unexpected,
      firstDifference: { line: 0, expected: "⟨bytes not valid UTF-8⟩", actual: null },
    };
  }
  return {
    file,
    lost,
    duplicated,
    unexpected,
    firstDifference: {
      line: i + 1,
      expected: exp[i] ?? (expected === null ? "⟨file missing from the reference⟩" : null),
      actual: act[i] ?? (actual === null ? "⟨file missing⟩" : null),
    },
  };
}

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** The file's lines sorted (each with its newline), for outputs of several workers. */
function sortedLines(bytes: Uint8Array | null): Uint8Array | null {
  if (bytes === null) return null;
  const lines = splitLines(new TextDecoder().decode(bytes)).sort();
  return new TextEncoder().encode(lines.map((l) => l + "\n").join(""));
}

/**
 * Compares two output directories file by file (with `sorted`, each file's lines sorted
 * first).
 */
export async function compareOutputs(
  expectedDir: string,
  actualDir: string,
  sorted = false,
): Promise<FileDiff[]> {
  const files = [...new Set([...await listFiles(expectedDir), ...await listFiles(actualDir)])]
    .sort();
  const diffs: FileDiff[] = [];
  for (const f of files) {
    const read = async (path: string) => {
      const bytes = await readOrNull(path);
      return sorted ? sortedLines(bytes) : bytes;
    };
    const d = diffFile(f, await read(`${expectedDir}/${f}`), await read(`${actualDir}/${f}`));
    if (d !== null) diffs.push(d);
  }
  return diffs;
}

/**
 * Runs one crash test (see the module documentation) and reports what it measured. Throws
 * when a process exits other than by success or SIGKILL, or hangs; returns a report with
 * `identical: false` (and the differences) when the output is wrong.
 */
export async function crashRun(options: CrashRunOptions): Promise<CrashReport> {
  const { seed, kills } = options;
  const lines = options.lines ?? 20_000;
  const keys = options.keys ?? 37;
  const epochMs = options.epochMs ?? 30;
  const sink: RunningSink = options.sink ?? (seed % 2 === 0 ? "file" : "dir");
  const storeKind = options.store ?? "fs";
  const workers = options.workers ?? 1;
  const env: Record<string, string> = storeKind === "kv"
    ? {
      WEIR_CRASH_PAD: String(options.kvPad ?? 24 * 1024),
      WEIR_CRASH_KV_LEASE_MS: String(options.kvLeaseMs ?? 200),
    }
    : {};
  const log = options.log ?? (() => {});
  if (!Number.isInteger(kills) || kills < 0) throw new RangeError(`kills: ${kills}`);
  if (!Number.isInteger(lines) || lines < 1) throw new RangeError(`lines: ${lines}`);
  const rnd = prng(seed ^ 0x5eed);
  const work = await Deno.makeTempDir({ prefix: `weir_crash_${seed}_` });
  let keep = false;
  try {
    const input = `${work}/input.txt`;
    await Deno.writeTextFile(input, generateInput(seed, lines, keys));

    const refOut = `${work}/reference`;
    const ref = await referenceRun(
      input,
      refOut,
      `${work}/reference-store`,
      epochMs,
      sink,
      storeKind,
      env,
      workers,
    );
    const files = await listFiles(refOut);
    const expectedBytes = await outputBytes(refOut);
    let expectedLines = 0;
    for (const f of files) {
      expectedLines += splitLines(await Deno.readTextFile(`${refOut}/${f}`)).length;
    }
    if (files.includes("late.txt")) {
      throw new Error(
        `Seed ${seed}: the reference run produced late items; the flow is not deterministic`,
      );
    }
    log(
      `seed ${seed} (${sink}): reference ${ref.ms.toFixed(0)} ms, first output at ` +
        `${ref.startupMs.toFixed(0)} ms, ${expectedLines} lines in ${files.join(" ")}`,
    );

    const out = `${work}/output`;
    const store = `${work}/store`;
    const workMs = Math.max(1, ref.ms - ref.startupMs);
    const history: RunRecord[] = [];
    const byMode: Record<KillMode, number> = { early: 0, timed: 0, write: 0, commit: 0, eof: 0 };
    let interrupted = 0;
    const loopStart = performance.now();
    for (;;) {
      if (history.length > kills + 1000) {
        throw new Error(`Seed ${seed}: the crash loop does not end`);
      }
      const bytesBefore = await filesBytes(out, files);
      const epochBefore = await storeEpoch(store);
      // Left by the previous run, until this one collects garbage under its claim.
      const tmpsBefore = new Set(await segmentTmps(store));
      const newTmp = async () => (await segmentTmps(store)).find((n) => !tmpsBefore.has(n));
      const remaining = Math.max(0, 1 - bytesBefore / expectedBytes) * workMs;
      let mode: KillMode | null = null;
      const killsLeft = kills - interrupted;
      if (killsLeft > 0) {
        // Only the last three kills may aim at the EOF phase: a kill that comes too late finds
        // the run finished, which ends the loop. After an `eof` kill, the next ones land in the
        // restarted runs' replay of the last epoch.
        const r = rnd();
        const eof = killsLeft === 1 ? 0.6 : killsLeft <= 3 ? 0.25 : 0;
        const rest = (r - eof) / (1 - eof);
        mode = r < eof
          ? "eof"
          : rest < 0.2
          ? "early"
          : rest < 0.5
          ? "timed"
          : rest < (storeKind === "kv" ? 0.65 : 0.8)
          ? "write"
          : "commit";
      }
      // Spread the remaining kills over the remaining work: each `timed` or `write` kill lets
      // the run advance by about remaining / (kills left + 1) on average.
      const step = () => Math.min(0.75 * remaining, (rnd() * 2 * remaining) / (killsLeft + 1));
      // Every draw happens here, before the process starts, so the decisions depend on the
      // seed and the measured times only.
      const delay = mode === "early"
        ? rnd() * 1.2 * ref.startupMs
        : mode === "timed" || mode === "write" || mode === "commit"
        ? ref.startupMs * (0.5 + 0.5 * rnd()) + step()
        : mode === "eof"
        ? (rnd() < 0.5 ? 2 : 5) * rnd()
        : 0;
      // Deno KV: the flow itself stops inside a multi-commit segment write, once `delay` passed.
      const kvStop = mode === "commit" && storeKind === "kv"
        ? (rnd() < 0.5 ? "chunk" : "record")
        : null;
      const runEnv = kvStop === null
        ? env
        : { ...env, WEIR_CRASH_KV_STOP: `${kvStop}:${delay.toFixed(0)}` };

      const t0 = performance.now();
      const child = spawnFlow(input, out, store, epochMs, sink, storeKind, runEnv, workers);
      let exited = false;
      const collected = collect(child);
      const outP = collected.output.finally(() => exited = true);
      let killSent = false;
      let atMs = 0;
      const kill = () => {
        if (exited) return;
        atMs = performance.now() - t0;
        try {
          child.kill("SIGKILL");
          killSent = true;
        } catch {
          // Already exited.
        }
      };
      const killer = (async () => {
        if (mode === null) return;
        if (mode === "eof") {
          // The output's final size, reached by this run (a killed run may have left it
          // complete but uncommitted: the restart truncates it first).
          let sawShort = bytesBefore < expectedBytes;
          while (!exited) {
            const n = await filesBytes(out, files);
            if (n < expectedBytes) sawShort = true;
            else if (sawShort) break;
            await sleep(0);
          }
        }
        if (kvStop !== null) {
          while (!exited && !collected.stderr().includes("WEIR-KV-STOP")) await sleep(1);
          kill();
          return;
        }
        const until = performance.now() + delay;
        while (!exited && performance.now() < until) {
          await sleep(Math.min(5, until - performance.now()));
        }
        if (mode === "write") {
          const from = await filesBytes(out, files);
          while (!exited && await filesBytes(out, files) === from) await sleep(0);
        } else if (mode === "commit") {
          while (!exited && await newTmp() === undefined) await sleep(0);
        }
        kill();
      })();
      const timeout = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, RUN_TIMEOUT_MS);
      const output = await outP;
      clearTimeout(timeout);
      await killer;
      const elapsed = performance.now() - t0;
      if (elapsed >= RUN_TIMEOUT_MS) {
        keep = true;
        throw new Error(
          `Seed ${seed}: run ${history.length + 1} hung (killed after ${elapsed} ms)`,
        );
      }
      const wasInterrupted = killSent && output.signal === "SIGKILL";
      if (!output.success && !wasInterrupted) {
        keep = true;
        throw new Error(
          `Seed ${seed}: run ${history.length + 1} (${mode ?? "not killed"}) exited ` +
            `unexpectedly: ${describeExit(output)}\n(work dir kept: ${work})`,
        );
      }
      const record: RunRecord = {
        mode,
        killSent,
        interrupted: wasInterrupted,
        atMs: killSent ? atMs : elapsed,
        beforeFirstCommit: storeKind === "fs" && wasInterrupted &&
          await storeEpoch(store) === epochBefore,
        // The dead process's output: had it written everything?
        afterAllOutput: wasInterrupted && await filesBytes(out, files) >= expectedBytes,
        inSegmentWrite: !wasInterrupted
          ? null
          : kvStop !== null
          ? tmpKind(/WEIR-KV-STOP \S+ (\S+)/.exec(collected.stderr())?.[1])
          : tmpKind(await newTmp()),
        kvStop: wasInterrupted && kvStop !== null ? kvStop : null,
      };
      history.push(record);
      if (!wasInterrupted) break;
      interrupted++;
      byMode[mode!]++;
      log(
        `  kill ${interrupted} (${mode}) at ${atMs.toFixed(0)} ms` +
          (record.beforeFirstCommit ? ", before the run's first commit" : "") +
          (record.afterAllOutput ? ", after all output was written" : "") +
          (record.inSegmentWrite !== null ? `, inside a ${record.inSegmentWrite} write` : "") +
          (record.kvStop === "chunk"
            ? " (between chunk commits)"
            : record.kvStop === "record"
            ? " (before its record commit)"
            : ""),
      );
    }
    const crashLoopMs = performance.now() - loopStart;

    const diffs = await compareOutputs(refOut, out, workers > 1);
    const sum = (f: (d: FileDiff) => number) => diffs.reduce((n, d) => n + f(d), 0);
    const identical = diffs.length === 0;
    if (!identical && options.keepOnFailure !== false) keep = true;
    const report: CrashReport = {
      seed,
      sink,
      store: storeKind,
      workers,
      lines,
      epochMs,
      files,
      expectedBytes,
      expectedLines,
      referenceMs: ref.ms,
      startupMs: ref.startupMs,
      runs: history.length,
      restarts: history.length - 1,
      killsSent: history.filter((r) => r.killSent).length,
      interrupted,
      killsAfterExit: history.filter((r) => r.killSent && !r.interrupted).length,
      killedBeforeFirstCommit: history.filter((r) => r.beforeFirstCommit).length,
      killedAfterAllOutput: history.filter((r) => r.afterAllOutput).length,
      killedInCommitWrite: history.filter((r) => r.inSegmentWrite === "delta").length,
      killedInBaseWrite: history.filter((r) => r.inSegmentWrite === "base").length,
      killedBetweenChunkCommits: history.filter((r) => r.kvStop === "chunk").length,
      killedBeforeRecordCommit: history.filter((r) => r.kvStop === "record").length,
      byMode,
      crashLoopMs,
      history,
      diffs,
      lost: sum((d) => d.lost),
      duplicated: sum((d) => d.duplicated),
      unexpected: sum((d) => d.unexpected),
      identical,
      keptDir: keep ? work : undefined,
    };
    log(`  ${summarize(report)}`);
    return report;
  } finally {
    if (!keep) await Deno.remove(work, { recursive: true });
  }
}

/** One line: the counts, and the first difference when the output is wrong. */
export function summarize(r: CrashReport): string {
  let s =
    `seed ${r.seed} (${r.sink}, ${r.store}${
      r.workers > 1 ? `, ${r.workers} workers` : ""
    }): ${r.interrupted} interrupted runs ` +
    `(${r.killsSent} kills sent, ${r.killsAfterExit} after exit; ` +
    `early ${r.byMode.early}, timed ${r.byMode.timed}, write ${r.byMode.write}, ` +
    `commit ${r.byMode.commit}, eof ${r.byMode.eof}; ` +
    `${r.killedBeforeFirstCommit} before the run's first commit, ` +
    `${r.killedAfterAllOutput} after all output, ${r.killedInCommitWrite} inside a commit's ` +
    `segment write, ${r.killedInBaseWrite} inside a base write` +
    (r.store === "kv"
      ? `; ${r.killedBetweenChunkCommits} between chunk commits, ` +
        `${r.killedBeforeRecordCommit} before a record commit`
      : "") +
    `), ${r.restarts} restarts, ` +
    `lost=${r.lost} dup=${r.duplicated} unexpected=${r.unexpected}, ` +
    `${r.identical ? "output identical" : "OUTPUT DIFFERS"} ` +
    `(${r.expectedLines} lines; reference ${r.referenceMs.toFixed(0)} ms, ` +
    `crash loop ${r.crashLoopMs.toFixed(0)} ms)`;
  for (const d of r.diffs) {
    s += `\n    ${d.file}: lost ${d.lost}, duplicated ${d.duplicated}, unexpected ${d.unexpected}`;
    const f = d.firstDifference;
    s += `; first difference at line ${f.line}: expected ${JSON.stringify(f.expected)}, ` +
      `got ${JSON.stringify(f.actual)}`;
  }
  if (r.keptDir !== undefined) s += `\n    files kept in ${r.keptDir}`;
  return s;
}
