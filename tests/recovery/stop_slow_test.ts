// Graceful stop with real processes: the CLI (and the same signal handling in a script) is
// stopped with SIGINT or SIGTERM mid-run, exits 130/143 after committing its epoch, and a
// restart finishes with output byte-identical to an uninterrupted run's. A second SIGINT exits
// at once, and the store still resumes. Prints the measured stop latencies (signal → exit).
import { assert, assertEquals } from "@std/assert";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { initStore, inspectStore } from "../../src/recovery/admin.ts";
import { compareOutputs, generateInput } from "./crash_harness.ts";

const FIXTURE = "tests/recovery/fixtures/stop_flow.ts";
/** Input lines: an uninterrupted run takes ~2–3 s, so a signal can land well inside it. */
const LINES = 50_000;

type Sig = "SIGINT" | "SIGTERM";
const EXIT_CODE: Record<Sig, number> = { SIGINT: 130, SIGTERM: 143 };
const STOPPING: Record<Sig, string> = {
  SIGINT: "weir: stopping after the current epoch (SIGINT); press Ctrl-C again to exit at once",
  SIGTERM:
    "weir: stopping after the current epoch (SIGTERM); send SIGTERM or SIGINT again to exit at once",
};

const dec = new TextDecoder();

/** A running process whose stdout and stderr are collected as they arrive. */
class Proc {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<Deno.CommandStatus>;

  constructor(args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-kv", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      for await (const chunk of stream) this[into] += dec.decode(chunk, { stream: true });
    };
    const streams = Promise.all([
      collect(this.child.stdout, "stdout"),
      collect(this.child.stderr, "stderr"),
    ]);
    this.done = streams.then(() => this.child.status);
  }
}

/** The fixture as a script: creates the store, prints its summary, exits with its code. */
function script(input: string, out: string, store: string, epochMs = 10_000, slowMs = 0): Proc {
  return new Proc([FIXTURE, input, out, store, String(epochMs), String(slowMs)]);
}

/** The CLI running the fixture's flow with the store (default epoch interval: 10 s). */
function cli(input: string, out: string, store: string, workers = 1): Proc {
  return new Proc([
    "src/cli.ts",
    "-q",
    "-w",
    String(workers),
    "-r",
    store,
    `${FIXTURE}:stopFlow("${input}", "${out}")`,
  ]);
}

async function size(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Waits until `path` holds at least `bytes`; fails if the process ends first. */
async function untilSize(p: Proc, path: string, bytes: number): Promise<void> {
  let ended = false;
  p.done.then(() => ended = true);
  while (await size(path) < bytes) {
    if (ended) throw new Error(`The run ended before ${path} reached ${bytes} bytes:\n${p.stderr}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The uninterrupted run, shared by the tests: its output directory and running.txt's size. */
let reference: Promise<{ dir: string; input: string; out: string; running: number }> | undefined;
function referenceRun() {
  return reference ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "weir_stop_ref_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const input = `${dir}/in.txt`;
    await Deno.writeTextFile(input, generateInput(11, LINES, 37));
    const out = `${dir}/out`;
    const p = script(input, out, `${dir}/store`);
    const status = await p.done;
    assertEquals([status.code, p.stderr], [0, ""]);
    assertEquals(JSON.parse(p.stdout), { status: "eof", epoch: 1, resumedFrom: 0 });
    return { dir, input, out, running: await size(`${out}/running.txt`) };
  })();
}

/** The last committed epoch of the store in `dir` (read without a run). */
async function lastEpoch(dir: string): Promise<number> {
  return (await inspectStore(fsBackend(dir))).lastEpoch;
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${sig} stops the CLI mid-run with ${EXIT_CODE[sig]} after a commit; restarts finish identically`, async () => {
    const ref = await referenceRun();
    const dir = await Deno.makeTempDir({ prefix: `weir_stop_${sig}_` });
    try {
      const out = `${dir}/out`;
      const store = `${dir}/store`;
      await initStore(fsBackend(store), Date.now());
      const latencies: number[] = [];
      // Two stops, at ~20% and ~55% of the output, each by the CLI with 10 s epochs.
      for (const [i, share] of [0.2, 0.55].entries()) {
        const p = cli(ref.input, out, store);
        await untilSize(p, `${out}/running.txt`, Math.round(ref.running * share));
        const t0 = performance.now();
        p.child.kill(sig);
        const status = await p.done;
        latencies.push(performance.now() - t0);
        assertEquals(
          { code: status.code, signal: status.signal, stderr: p.stderr, stdout: p.stdout },
          { code: EXIT_CODE[sig], signal: null, stderr: STOPPING[sig] + "\n", stdout: "" },
        );
        // Stopped mid-run, and the stop committed its epoch (the i-th of the store).
        assert(await size(`${out}/running.txt`) < ref.running);
        assertEquals(await lastEpoch(store), i + 1);
      }
      // The restart continues after the second stop and finishes.
      const last = script(ref.input, out, store);
      const status = await last.done;
      assertEquals([status.code, last.stderr], [0, ""]);
      assertEquals(JSON.parse(last.stdout), { status: "eof", epoch: 3, resumedFrom: 2 });
      // Byte for byte the uninterrupted output: nothing lost, nothing duplicated, and no window
      // was closed by a stop.
      assertEquals(await compareOutputs(ref.out, out), []);
      console.log(
        `${sig}: stop latency (signal → exit, 10 s epochs) ${
          latencies.map((ms) => ms.toFixed(0)).join(" ms, ")
        } ms`,
      );
      // The stop does not wait for the 10 s epoch deadline.
      for (const ms of latencies) assert(ms < 5_000, `a stop took ${ms} ms`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a second SIGINT exits 130 at once without the stop's commit; the restart is identical", async () => {
  const ref = await referenceRun();
  const dir = await Deno.makeTempDir({ prefix: "weir_stop_twice_" });
  try {
    const out = `${dir}/out`;
    const store = `${dir}/store`;
    // 100 ms epochs, so earlier epochs are committed; after the first signal every segment
    // write waits 5 s, so the second signal lands inside the stop's commit.
    const p = script(ref.input, out, store, 100, 5_000);
    await untilSize(p, `${out}/running.txt`, Math.round(ref.running * 0.4));
    p.child.kill("SIGINT");
    await until(() => p.stderr.includes("\n"), "the stopping line");
    const t0 = performance.now();
    p.child.kill("SIGINT");
    const status = await p.done;
    const ms = performance.now() - t0;
    assertEquals({ code: status.code, stderr: p.stderr, stdout: p.stdout }, {
      code: 130,
      stderr: STOPPING.SIGINT + "\n" +
        "weir: exiting at once (SIGINT again) without finishing the current epoch\n",
      stdout: "",
    });
    assert(ms < 2_000, `the second SIGINT took ${ms} ms to exit`);
    console.log(`second SIGINT → exit: ${ms.toFixed(0)} ms`);
    // The store holds the epochs committed before the stop, and resumes from the last one.
    const committed = await lastEpoch(store);
    assert(committed >= 1, `only ${committed} epochs committed`);
    const last = script(ref.input, out, store);
    const done = await last.done;
    assertEquals([done.code, last.stderr], [0, ""]);
    const summary = JSON.parse(last.stdout);
    assertEquals([summary.status, summary.resumedFrom], ["eof", committed]);
    assertEquals(await compareOutputs(ref.out, out), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGINT stops the CLI on 2 workers after a commit; a restart on 2 finishes with the same lines", async () => {
  const ref = await referenceRun();
  const dir = await Deno.makeTempDir({ prefix: "weir_stop_workers_" });
  try {
    const out = `${dir}/out`;
    const store = `${dir}/store`;
    await initStore(fsBackend(store), Date.now());
    const p = cli(ref.input, out, store, 2);
    await untilSize(p, `${out}/running.txt`, Math.round(ref.running * 0.3));
    p.child.kill("SIGINT");
    const status = await p.done;
    assertEquals(
      { code: status.code, stderr: p.stderr, stdout: p.stdout },
      { code: EXIT_CODE.SIGINT, stderr: STOPPING.SIGINT + "\n", stdout: "" },
    );
    assert(await size(`${out}/running.txt`) < ref.running);
    assertEquals(await lastEpoch(store), 1);
    const last = cli(ref.input, out, store, 2);
    const done = await last.done;
    assertEquals([done.code, last.stderr], [0, ""]);
    // Lines of different keys interleave differently on 2 workers: compared sorted (each
    // key's running sums prove its order), nothing lost or repeated across the stop.
    assertEquals(await compareOutputs(ref.out, out, true), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
