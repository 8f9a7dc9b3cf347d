import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import {
  Dataflow,
  DataflowError,
  EOF,
  type PartitionContext,
  type StatelessSourcePartition,
} from "../../mod.ts";
import { formatLine, StdInSource, StdOutSink, writeAll } from "../../connectors/stdio.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A stream that yields the given chunks (strings are UTF-8 encoded). */
function chunks(...parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts.map((p) => typeof p === "string" ? enc.encode(p) : p));
}

/** Runs stdin → TestingSink over `stream` and returns the lines. */
async function readAll(stream: ReadableStream<Uint8Array>, batchSize = 1000): Promise<string[]> {
  const out: string[] = [];
  const flow = new Dataflow("stdin");
  flow.input("inp", new StdInSource({ stream, batchSize })).output("out", new TestingSink(out));
  await runMain(flow);
  return out;
}

/** A partition of worker 0 read directly, outside a run. */
function partition(
  source: StdInSource,
  clock = new TestClock({ autoAdvance: false }),
): StatelessSourcePartition<string> {
  const ctx: PartitionContext = { clock, workerIndex: 0, workerCount: 1 };
  return source.build("f.inp", 0, 1, ctx) as StatelessSourcePartition<string>;
}

/** Lets the background reader run (macrotask turn). */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A stream fed by hand; pulls only when read (no read-ahead). */
function manualStream(): {
  stream: ReadableStream<Uint8Array>;
  push(s: string | Uint8Array): void;
  end(): void;
} {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) }, {
    highWaterMark: 0,
  });
  return {
    stream,
    push: (s) => ctrl.enqueue(typeof s === "string" ? enc.encode(s) : s),
    end: () => ctrl.close(),
  };
}

Deno.test("StdInSource: lines split across chunks, CRLF, blank lines, no final newline", async () => {
  assertEquals(await readAll(chunks("al", "pha\r", "\nbe", "ta\n\n", "gam", "ma")), [
    "alpha",
    "beta",
    "",
    "gamma",
  ]);
});

Deno.test("StdInSource: edge cases of line splitting", async () => {
  const cases: [string[], string[]][] = [
    [[], []],
    [[""], []],
    [["\n"], [""]],
    [["\n\n"], ["", ""]],
    [["\r\n\r\n"], ["", ""]],
    [["a"], ["a"]],
    [["a\n"], ["a"]],
    // A \r not before \n stays in the line; one at the very end is removed like FileSource.
    [["a\rb\n"], ["a\rb"]],
    [["last\r"], ["last"]],
    [["x\r\r\n"], ["x\r"]],
    [["no", "", "newline"], ["nonewline"]],
  ];
  for (const [input, expected] of cases) {
    assertEquals(await readAll(chunks(...input)), expected, JSON.stringify(input));
  }
});

Deno.test("StdInSource: multi-byte characters split between chunks come out whole", async () => {
  const text = "héllo 日本 🙂\nnext ✓\n";
  const bytes = enc.encode(text);
  // Split inside é (2 bytes), 日 (3 bytes) and 🙂 (4 bytes).
  const parts = [bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9, 15), bytes.slice(15)];
  assertEquals(await readAll(chunks(...parts)), ["héllo 日本 🙂", "next ✓"]);
  // One byte per chunk.
  const single = Array.from(bytes, (b) => new Uint8Array([b]));
  assertEquals(await readAll(chunks(...single)), ["héllo 日本 🙂", "next ✓"]);
});

Deno.test("StdInSource: invalid UTF-8 becomes U+FFFD and a truncated last char too", async () => {
  assertEquals(
    await readAll(chunks(new Uint8Array([0x61, 0xff, 0x0a, 0xe6, 0x97]))),
    ["a\uFFFD", "\uFFFD"],
  );
});

Deno.test("StdInSource: queued lines come synchronously, at most batchSize at a time", async () => {
  const part = partition(new StdInSource({ stream: chunks("1\n2\n3\n4\n5\n"), batchSize: 2 }));
  await tick();
  const batches = [part.nextBatch(), part.nextBatch(), part.nextBatch()];
  assertEquals(batches, [["1", "2"], ["3", "4"], ["5"]]);
  // The end of the stream is seen once the reader has read past the queued lines.
  await tick();
  assertStrictEquals(part.nextBatch(), EOF);
  assertStrictEquals(part.nextBatch(), EOF);
  await part.close?.();
});

Deno.test("StdInSource: batchSize splits a run's input into batches of that size", async () => {
  const seen: number[] = [];
  const flow = new Dataflow("sizes");
  flow.input("inp", new StdInSource({ stream: chunks("a\nb\nc\nd\ne\n"), batchSize: 2 }))
    .output("out", { build: () => ({ writeBatch: (items) => void seen.push(items.length) }) });
  await runMain(flow);
  assertEquals(seen, [2, 2, 1]);
});

Deno.test("StdInSource: an idle poll resolves [] after maxWaitMs of the run's clock", async () => {
  const { stream } = manualStream();
  const clock = new TestClock({ start: 1000, autoAdvance: false });
  const part = partition(new StdInSource({ stream, maxWaitMs: 100 }), clock);
  const pending = part.nextBatch();
  assertInstanceOf(pending, Promise);
  let settled = false;
  pending.then(() => settled = true);
  clock.advance(99);
  await tick();
  assertEquals(settled, false);
  clock.advance(1);
  assertEquals(await pending, []);
  await part.close?.();
});

Deno.test("StdInSource: lines arriving during a poll resolve it before maxWaitMs", async () => {
  const { stream, push, end } = manualStream();
  const clock = new TestClock({ autoAdvance: false });
  const part = partition(new StdInSource({ stream, maxWaitMs: 100 }), clock);
  const pending = part.nextBatch();
  push("par");
  await tick();
  // A partial line does not resolve the poll.
  let settled = false;
  (pending as Promise<unknown>).then(() => settled = true);
  await tick();
  assertEquals(settled, false);
  push("tial\nsecond\n");
  assertEquals(await pending, ["partial", "second"]);
  assertEquals(clock.now(), 0);
  // The end of the stream resolves a waiting poll with EOF.
  const last = part.nextBatch();
  end();
  assertEquals(await last, EOF);
  await part.close?.();
});

Deno.test("StdInSource: a slow stream producing data over time is read whole", async () => {
  const parts = ["one\ntw", "o\n", "", "thr", "ee\nfour"];
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (i < parts.length) c.enqueue(enc.encode(parts[i++]!));
      else c.close();
    },
  }, { highWaterMark: 0 });
  const out: string[] = [];
  const flow = new Dataflow("slow");
  flow.input("inp", new StdInSource({ stream, maxWaitMs: 1 })).output("out", new TestingSink(out));
  const summary = await runMain(flow, { epochInterval: 5 });
  assertEquals(out, ["one", "two", "three", "four"]);
  assertEquals(summary.status, "eof");
});

Deno.test("StdInSource: the reader pauses while 2 × batchSize lines are queued", async () => {
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls++;
      if (pulls <= 100) c.enqueue(enc.encode(`${pulls}\n`));
      else c.close();
    },
  }, { highWaterMark: 0 });
  const part = partition(new StdInSource({ stream, batchSize: 3 }));
  for (let i = 0; i < 5; i++) await tick();
  assertEquals(pulls, 6);
  assertEquals(part.nextBatch(), ["1", "2", "3"]);
  for (let i = 0; i < 5; i++) await tick();
  assertEquals(pulls, 9);
  assertEquals(part.nextBatch(), ["4", "5", "6"]);
  await part.close?.();
  assertLessOrEqual(pulls, 12);
});

Deno.test("StdInSource: close cancels the stream", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => c.enqueue(enc.encode("a\n")),
    cancel: () => void (cancelled = true),
  });
  const part = partition(new StdInSource({ stream }));
  await tick();
  assertEquals(part.nextBatch(), ["a"]);
  await part.close?.();
  assertEquals(cancelled, true);
  // Closing twice is harmless.
  await part.close?.();
});

Deno.test("StdInSource: only worker 0 reads", () => {
  const part = new StdInSource({ stream: chunks("x\n") }).build("f.inp", 1, 2, {
    clock: new TestClock(),
    workerIndex: 1,
    workerCount: 2,
  }) as StatelessSourcePartition<string>;
  assertStrictEquals(part.nextBatch(), EOF);
});

Deno.test("StdInSource: a failing stream fails the run naming the input, after its lines", async () => {
  const boom = new Error("pipe broke");
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulls++ === 0) c.enqueue(enc.encode("before\n"));
      else c.error(boom);
    },
  }, { highWaterMark: 0 });
  const part = partition(new StdInSource({ stream }));
  await tick();
  assertEquals(part.nextBatch(), ["before"]);
  assertStrictEquals(assertThrows(() => part.nextBatch()), boom);

  const failing = new ReadableStream<Uint8Array>({ pull: (c) => c.error(boom) });
  const flow = new Dataflow("stdin");
  flow.input("inp", new StdInSource({ stream: failing })).output("out", new TestingSink([]));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals([err.stepId, err.cause], ["stdin.inp", boom]);
  assertEquals(err.message, 'Step "stdin.inp": Failed to read the next batch: pipe broke');
});

Deno.test("StdInSource: rejects bad options", () => {
  assertThrows(
    () => new StdInSource({ batchSize: 0 }),
    RangeError,
    "batchSize must be a positive integer, got 0",
  );
  assertThrows(
    () => new StdInSource({ batchSize: 1.5 }),
    RangeError,
    "batchSize must be a positive integer, got 1.5",
  );
  assertThrows(
    () => new StdInSource({ maxWaitMs: -1 }),
    RangeError,
    "maxWaitMs must be a number >= 0, got -1",
  );
  assertThrows(
    () => new StdInSource({ maxWaitMs: NaN }),
    RangeError,
    "maxWaitMs must be a number >= 0, got NaN",
  );
});

Deno.test("formatLine: strings as is, primitives with String, plain objects as JSON", () => {
  class Point {
    constructor(readonly x: number) {}
    toString(): string {
      return `Point(${this.x})`;
    }
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assertEquals(
    [
      formatLine("s"),
      formatLine("two\nlines"),
      formatLine(1.5),
      formatLine(true),
      formatLine(null),
      formatLine(undefined),
      formatLine(10n),
      formatLine(Symbol("s")),
      formatLine([1, "a", null]),
      formatLine({ a: { b: 1n } }),
      formatLine(Object.assign(Object.create(null), { k: 1 })),
      formatLine(new Point(3)),
      formatLine(new Date(0)),
      formatLine(cyclic),
    ],
    [
      "s",
      "two\nlines",
      "1.5",
      "true",
      "null",
      "undefined",
      "10",
      "Symbol(s)",
      '[1,"a",null]',
      '{"a":{"b":"1"}}',
      '{"k":1}',
      "Point(3)",
      new Date(0).toString(),
      "[object Object]",
    ],
  );
});

/** A writer that records each call's text and accepts at most `max` bytes per call. */
function recorder(max = Infinity): { writes: string[]; write(p: Uint8Array): Promise<number> } {
  const writes: string[] = [];
  return {
    writes,
    write(p: Uint8Array): Promise<number> {
      const n = Math.min(max, p.length);
      writes.push(dec.decode(p.subarray(0, n)));
      return Promise.resolve(n);
    },
  };
}

Deno.test("StdOutSink: one write per batch, one line per item", async () => {
  const writer = recorder();
  const flow = new Dataflow("print");
  flow.input(
    "inp",
    new TestingSource<unknown>(["a", 1, { b: [2] }, "日本", null], { batchSize: 2 }),
  )
    .output("out", new StdOutSink({ writer }));
  await runMain(flow);
  assertEquals(writer.writes, ["a\n1\n", '{"b":[2]}\n日本\n', "null\n"]);
});

Deno.test("StdOutSink: partial writes are completed before the next batch", async () => {
  const writer = recorder(4);
  const flow = new Dataflow("print");
  flow.input("inp", new TestingSource(["alpha", "beta", "c"], { batchSize: 2 }))
    .output("out", new StdOutSink({ writer }));
  await runMain(flow);
  assertEquals(writer.writes, ["alph", "a\nbe", "ta\n", "c\n"]);
});

Deno.test("StdOutSink: a writer that writes nothing fails the run at the output", async () => {
  const writer = { write: (_p: Uint8Array) => Promise.resolve(0) };
  const flow = new Dataflow("print");
  flow.input("inp", new TestingSource(["x"])).output("out", new StdOutSink({ writer }));
  const err = await assertRejects(() => runMain(flow), DataflowError);
  assertEquals(err.stepId, "print.out");
  assertEquals((err.cause as Error).message, "The writer wrote 0 bytes of 2; expected at least 1");
});

Deno.test("writeAll: loops over partial writes, writes nothing for no bytes", async () => {
  const writer = recorder(3);
  await writeAll(writer, enc.encode("abcdefg"));
  assertEquals(writer.writes, ["abc", "def", "g"]);
  await writeAll(writer, new Uint8Array(0));
  assertEquals(writer.writes.length, 3);
});

Deno.test("stdin → upper case → stdout in a real subprocess", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "tests/connectors/fixtures/upper_stdin.ts"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = child.stdin.getWriter();
  const bytes = enc.encode("hello\r\nwörld\n\nlast");
  // Two writes, the second after a pause, split inside "ö".
  await w.write(bytes.subarray(0, 9));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await w.write(bytes.subarray(9));
  await w.close();
  const out = await child.output();
  assertEquals(dec.decode(out.stderr), "");
  assertEquals(out.code, 0);
  assertEquals(dec.decode(out.stdout), "HELLO\nWÖRLD\n\nLAST\n");
  assert(out.success);
});
