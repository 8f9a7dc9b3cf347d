import { assertEquals, assertRejects } from "@std/assert";
import { Dataflow, DataflowError, EOF, type StatelessSourcePartition } from "../../mod.ts";
import { formatLine, StdInSource, StdOutSink } from "../../connectors/stdio.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

const enc = new TextEncoder();

function chunks(...parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts.map((p) => typeof p === "string" ? enc.encode(p) : p));
}

async function readAll(stream: ReadableStream<Uint8Array>, batchSize = 1000): Promise<string[]> {
  const out: string[] = [];
  const flow = new Dataflow("stdin");
  flow.input("inp", new StdInSource({ stream, batchSize })).output("out", new TestingSink(out));
  await runMain(flow);
  return out;
}

Deno.test("StdInSource: lines across chunk boundaries, CRLF, blank lines, no final newline", async () => {
  assertEquals(await readAll(chunks("al", "pha\r", "\nbe", "ta\n\n", "gam", "ma")), [
    "alpha",
    "beta",
    "",
    "gamma",
  ]);
  assertEquals(await readAll(chunks("")), []);
  assertEquals(await readAll(chunks("\n")), [""]);
});

Deno.test("StdInSource: multi-byte characters split between chunks come out whole", async () => {
  const bytes = enc.encode("héllo 日本 🙂\nnext\n");
  const parts = [bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9, 14), bytes.slice(14)];
  assertEquals(await readAll(chunks(...parts)), ["héllo 日本 🙂", "next"]);
});

Deno.test("StdInSource: batches hold at most batchSize lines", async () => {
  const stream = chunks("1\n2\n3\n4\n5\n");
  const part = new StdInSource({ stream, batchSize: 2 }).build("f.inp", 0, 1, {
    clock: new TestClock(),
    workerIndex: 0,
    workerCount: 1,
  }) as StatelessSourcePartition<string>;
  const batches: unknown[] = [];
  for (;;) {
    const b = await part.nextBatch();
    if (b === EOF) break;
    if ((b as string[]).length > 0) batches.push(b);
  }
  assertEquals(batches, [["1", "2"], ["3", "4"], ["5"]]);
  await part.close?.();
});

Deno.test("StdInSource: an idle stream yields empty batches after maxWaitMs, then the data", async () => {
  let push: ((s: string) => void) | undefined;
  let end: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      push = (s) => c.enqueue(enc.encode(s));
      end = () => c.close();
    },
  });
  const clock = new TestClock({ autoAdvance: false });
  const part = new StdInSource({ stream, maxWaitMs: 100 }).build("f.inp", 0, 1, {
    clock,
    workerIndex: 0,
    workerCount: 1,
  }) as StatelessSourcePartition<string>;
  const first = part.nextBatch() as Promise<string[]>;
  clock.advance(100);
  assertEquals(await first, []);
  const second = part.nextBatch() as Promise<string[]>;
  push!("late line\n");
  assertEquals(await second, ["late line"]);
  end!();
  assertEquals(await part.nextBatch(), EOF);
  await part.close?.();
});

Deno.test("StdInSource: only worker 0 reads", () => {
  const part = new StdInSource({ stream: chunks("x\n") }).build("f.inp", 1, 2, {
    clock: new TestClock(),
    workerIndex: 1,
    workerCount: 2,
  });
  assertEquals((part as StatelessSourcePartition<string>).nextBatch(), EOF);
});

Deno.test("StdInSource: a failing stream fails the run naming the input", async () => {
  const boom = new Error("pipe broke");
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      c.error(boom);
    },
  });
  const flow = new Dataflow("stdin");
  flow.input("inp", new StdInSource({ stream })).output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals([err.stepId, err.cause], ["stdin.inp", boom]);
});

Deno.test("formatLine: strings as is, primitives with String, plain objects as JSON", () => {
  assertEquals(
    [
      formatLine("s"),
      formatLine(1.5),
      formatLine(null),
      formatLine(undefined),
      formatLine(10n),
      formatLine([1, "a"]),
      formatLine({ a: { b: 1n } }),
      formatLine(new Date(0)),
    ],
    ["s", "1.5", "null", "undefined", "10", '[1,"a"]', '{"a":{"b":"1"}}', new Date(0).toString()],
  );
});

Deno.test("StdOutSink: one write per batch, partial writes completed", async () => {
  const writes: string[] = [];
  const writer = {
    // Accepts at most 4 bytes per call, to exercise the write loop.
    write(p: Uint8Array): Promise<number> {
      const n = Math.min(4, p.length);
      writes.push(new TextDecoder().decode(p.subarray(0, n)));
      return Promise.resolve(n);
    },
  };
  const flow = new Dataflow("print");
  flow.input("inp", new TestingSource(["alpha", "beta", "c"], { batchSize: 2 }))
    .output("out", new StdOutSink({ writer }));
  await runMain(flow);
  assertEquals(writes.join(""), "alpha\nbeta\nc\n");
  assertEquals(writes, ["alph", "a\nbe", "ta\n", "c\n"]);
});

Deno.test("stdin → upper case → stdout in a real subprocess", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "tests/fixtures/upper_stdin.ts"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(enc.encode("hello\nwörld\n\nlast"));
  await w.close();
  const out = await child.output();
  assertEquals(new TextDecoder().decode(out.stderr), "");
  assertEquals(out.code, 0);
  assertEquals(new TextDecoder().decode(out.stdout), "HELLO\nWÖRLD\n\nLAST\n");
});
