import { assert, assertEquals, assertMatch } from "@std/assert";
import { Dataflow, run, type RunProgress } from "../../mod.ts";
import { formatProgress } from "../../src/observe/progress_line.ts";
import { runDeno } from "../_deno_process.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { wordsOf } from "../fixtures/observe_flows.ts";

/** A text file of `lines` lines "w<i % 50> x y" (3 words each). */
async function textFile(dir: string, lines: number): Promise<{ path: string; bytes: number }> {
  const text = Array.from({ length: lines }, (_, i) => `w${i % 50} x y`).join("\n") + "\n";
  const path = `${dir}/in.txt`;
  await Deno.writeTextFile(path, text);
  return { path, bytes: new TextEncoder().encode(text).length };
}

Deno.test("run onProgress: a file input's position, percent and items reach its size and 100%", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path, bytes } = await textFile(dir, 2000);
    const seen: RunProgress[] = [];
    await run(wordsOf(path, `${dir}/out.txt`, 100), {
      epochInterval: 0,
      onProgress: (p) => seen.push(p),
    });
    const events = seen.map((p) => p.event);
    assertEquals(events[0], "started");
    assertEquals(events.at(-1), "finished");
    assert(events.includes("epoch"));
    const first = seen[0]!.inputs[0]!;
    assertEquals([first.items, first.position, first.end, first.percent], [0, 0, bytes, 0]);
    const last = seen.at(-1)!;
    assertEquals(last.status, "eof");
    assertEquals(last.inputs[0]!.stepId, "words.lines");
    assertEquals(
      [last.inputs[0]!.items, last.inputs[0]!.position, last.inputs[0]!.end],
      [2000, bytes, bytes],
    );
    assertEquals([last.inputs[0]!.percent, last.inputs[0]!.etaMs], [100, 0]);
    // Percent never goes backwards and is somewhere in between while the file is read.
    const percents = seen.map((p) => p.inputs[0]!.percent!);
    assertEquals(percents, [...percents].sort((a, b) => a - b));
    assert(percents.some((x) => x > 0 && x < 100), `no intermediate percent in ${percents}`);
    // Per-step counters: 2000 lines → 6000 words → 52 distinct words written.
    const step = (id: string) => last.steps.find((s) => s.stepId === `words.${id}`)!;
    assertEquals(step("split").itemsIn, 2000);
    assertEquals(step("count.count").itemsIn, 6000);
    assertEquals(step("count.count").itemsOut, 52);
    assertEquals(last.outputs, [{ stepId: "words.out", items: 52, rate: last.outputs[0]!.rate }]);
    // Keys are held while the file is read (countFinal drops them at EOF).
    assert(
      seen.some((p) => p.steps.some((s) => s.stepId === "words.count.count" && s.keys === 52)),
    );
    assertEquals(step("count.count").keys, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run: a bad progressInterval is refused", async () => {
  const flow = new Dataflow("bad");
  flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
  let message = "";
  try {
    await run(flow, { progressInterval: -1, onProgress: () => {} });
  } catch (err) {
    message = (err as Error).message;
  }
  assertEquals(message, "progressInterval must be a number of milliseconds >= 0, got -1");
});

Deno.test("formatProgress: bar, percent, bytes, ETA, keys and commit", () => {
  const line = formatProgress({
    event: "tick",
    flowId: "f",
    worker: 0,
    at: 10_000,
    elapsedMs: 4000,
    epoch: 7,
    status: "running",
    inputs: [{
      stepId: "f.lines",
      items: 12345,
      rate: 2500,
      position: 512 * 1024,
      end: 2048 * 1024,
      percent: 25,
      etaMs: 12_000,
    }],
    outputs: [{ stepId: "f.out", items: 10, rate: 2 }],
    steps: [{ stepId: "f.count.count", keys: 321 }],
    lastCommit: { epoch: 6, bytes: 2048, latencyMs: 3, at: 8000 },
  });
  assertEquals(
    line,
    "epoch 7 · lines 12.3k items 2500/s [#####---------------] 25% 512.0 KiB/2.0 MiB ETA 12s" +
      " · out 10 out 2/s · count.count 321 keys · committed epoch 6 2.0 KiB in 3ms 2s ago",
  );
});

Deno.test("weir CLI, not on a terminal: plain progress lines for a file input end at 100%", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path, bytes } = await textFile(dir, 4000);
    const flowFile = `${dir}/flow.ts`;
    const fixture = new URL("../fixtures/observe_flows.ts", import.meta.url).href;
    await Deno.writeTextFile(
      flowFile,
      `import { wordsOf } from ${JSON.stringify(fixture)};\n` +
        `export const flow = wordsOf(${JSON.stringify(path)}, ${
          JSON.stringify(`${dir}/out.txt`)
        }, 100, 50);\n`,
    );
    const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
    const r = await runDeno(["run", "-A", cli, "-s", "0.05", flowFile], dir);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert(lines.length >= 2, r.stderr);
    for (const l of lines) assertMatch(l, /^weir: epoch \d+ · lines \d/);
    const last = lines.at(-1)!;
    assertMatch(
      last,
      new RegExp(
        `^weir: epoch \\d+ · lines 4000 items \\d+(\\.\\d)?k?/s \\[#{20}\\] 100% ` +
          `${(bytes / 1024).toFixed(1)} KiB/${(bytes / 1024).toFixed(1)} KiB · out 52 out`,
      ),
    );
    // Earlier lines show the file part-read.
    assertMatch(lines[0]!, / \d{1,2}% /);
    // --quiet prints nothing.
    const q = await runDeno(["run", "-A", cli, "-q", "-s", "0.05", flowFile], dir);
    assertEquals([q.code, q.stderr], [0, ""]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("progress() of FileSource, CSVSource and JSONLinesSource partitions: bytes read of the file's size", async () => {
  const { FileSource } = await import("../../connectors/files.ts");
  const { CSVSource } = await import("../../connectors/csv.ts");
  const { JSONLinesSource } = await import("../../connectors/jsonl.ts");
  const { WallClock } = await import("../../mod.ts");
  const dir = await Deno.makeTempDir();
  const ctx = { clock: new WallClock(), workerIndex: 0, workerCount: 1 };
  try {
    const cases = [
      ["a.txt", "one\ntwo\nthree\n", new FileSource(`${dir}/a.txt`, { batchSize: 1 })],
      ["a.csv", "n,w\n1,one\n2,two\n", new CSVSource(`${dir}/a.csv`, { batchSize: 1 })],
      ["a.jsonl", '{"n":1}\n{"n":2}\n', new JSONLinesSource(`${dir}/a.jsonl`, { batchSize: 1 })],
    ] as const;
    for (const [name, text, source] of cases) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      const part = await source.buildPart("f.inp", `${dir}/${name}`, undefined, ctx);
      const firstEnd = text.indexOf("\n", name.endsWith(".csv") ? 4 : 0) + 1;
      await part.nextBatch();
      assertEquals(part.progress!(), { position: firstEnd, end: text.length }, name);
      while ((await part.nextBatch()) !== (await import("../../mod.ts")).EOF) {
        // read to the end
      }
      assertEquals(part.progress!(), { position: text.length, end: text.length }, name);
      await part.close?.();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "weir CLI on a terminal: one progress line on stderr, redrawn in place, ending at 100%",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { path } = await textFile(dir, 2000);
      const flowFile = `${dir}/flow.ts`;
      const fixture = new URL("../fixtures/observe_flows.ts", import.meta.url).href;
      await Deno.writeTextFile(
        flowFile,
        `import { wordsOf } from ${JSON.stringify(fixture)};\n` +
          `export const flow = wordsOf(${JSON.stringify(path)}, ${
            JSON.stringify(`${dir}/out.txt`)
          }, 100, 40);\n`,
      );
      const cli = new URL("../../src/cli.ts", import.meta.url).pathname;
      // util-linux `script` runs the CLI on a pseudo-terminal 100 columns wide; stderr goes to
      // the terminal, stdout (the flow writes to a file) has nothing.
      const command = `stty cols 100; ${Deno.execPath()} run -A ${cli} -s 0.05 ${flowFile}`;
      const r = await new Deno.Command("script", {
        args: ["-qec", command, "/dev/null"],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(r.stdout);
      assertEquals(r.code, 0, out);
      // Every redraw starts with a carriage return and an erase-line; one newline at the end.
      const frames = out.split("\r\x1b[2K").slice(1);
      assert(frames.length >= 3, JSON.stringify(out));
      for (const f of frames.slice(0, -1)) {
        assertMatch(f, /^weir: epoch \d+ · lines \d+(\.\d)?k? items/);
        assert(!f.includes("\n"), JSON.stringify(f));
        assert(f.length <= 99, `a frame wider than the terminal: ${f}`);
      }
      const last = frames.at(-1)!;
      assertMatch(last, /^weir: epoch \d+ · lines 2000 items .*\[#{20}\] 100% .*…\r?\n$/);
      assert(frames.some((f) => /\] \d{1,2}% /.test(f)), "no frame shows the file part-read");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a throwing onProgress or tracer does not fail the run (recovery on: commits too)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { initStore } = await import("../../mod.ts");
    const { fsBackend } = await import("../../src/recovery/deno_fs.ts");
    await initStore(fsBackend(dir), Date.now());
    const out: number[] = [];
    const flow = new Dataflow("loud");
    flow.input("inp", new TestingSource([1, 2, 3])).output("out", new TestingSink(out));
    let calls = 0;
    const summary = await run(flow, {
      epochInterval: 0,
      recovery: { backend: fsBackend(dir) },
      onProgress: () => {
        calls++;
        throw new Error("listener");
      },
      tracer: {
        startSpan: () => {
          calls++;
          throw new Error("tracer");
        },
      },
    });
    assertEquals([summary.status, out], ["eof", [1, 2, 3]]);
    assert(calls > 3, `${calls}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
