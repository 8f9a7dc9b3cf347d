/**
 * Standard input and output connectors for Deno: {@linkcode StdInSource} reads lines,
 * {@linkcode StdOutSink} prints one line per item. Like Bytewax's `bytewax.connectors.stdio`.
 *
 * @module
 */
import {
  type DynamicSink,
  type DynamicSource,
  EOF,
  type PartitionContext,
  type StatelessSinkPartition,
  type StatelessSourcePartition,
} from "../mod.ts";

/**
 * Something bytes can be written to: `Deno.stdout`, `Deno.stderr`, a `Deno.FsFile`, a test
 * double. `write` may write only part of `p`; it resolves to how many bytes it wrote.
 *
 * @example A writer that collects text
 * ```ts
 * import { type ByteWriter, writeAll } from "@weir/weir/connectors/stdio";
 * import { assertEquals } from "@std/assert";
 *
 * let text = "";
 * const writer: ByteWriter = {
 *   write: (p) => (text += new TextDecoder().decode(p), Promise.resolve(p.length)),
 * };
 * await writeAll(writer, new TextEncoder().encode("hi\n"));
 * assertEquals(text, "hi\n");
 * ```
 */
export interface ByteWriter {
  /** Writes some of `p`, resolving to how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/** Options of {@linkcode StdOutSink}. */
export interface StdOutSinkOptions {
  /** Where to write (default `Deno.stdout`). */
  readonly writer?: ByteWriter;
}

/**
 * Renders an item as one line of {@linkcode StdOutSink}'s output:
 * - strings as they are;
 * - other primitives (numbers, booleans, bigints, symbols, `null`, `undefined`) with
 *   `String()`;
 * - plain objects (prototype `Object.prototype` or `null`) and arrays as JSON, bigints inside
 *   them as decimal strings; a value JSON can't render (a cycle) falls back to `String()`;
 * - anything else (class instances, Dates, Maps, functions) with `String()`, so a class can
 *   choose its rendering with `toString()`.
 *
 * A string that contains `\n` is printed as is and so spans several lines.
 *
 * @param item The item to render.
 * @returns The line, without its newline.
 *
 * @example Each kind of item
 * ```ts
 * import { formatLine } from "@weir/weir/connectors/stdio";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   ["text", 42, null, ["a", 1], { n: 2n }].map(formatLine),
 *   ["text", "42", "null", '["a",1]', '{"n":"2"}'],
 * );
 * ```
 */
export function formatLine(item: unknown): string {
  if (typeof item === "string") return item;
  if (item === null || typeof item !== "object") return String(item);
  const proto = Object.getPrototypeOf(item);
  if (Array.isArray(item) || proto === Object.prototype || proto === null) {
    try {
      return JSON.stringify(item, (_k, v) => typeof v === "bigint" ? v.toString() : v);
    } catch {
      return String(item);
    }
  }
  return String(item);
}

const encoder = new TextEncoder();

/**
 * Writes all of `bytes` to `writer`, calling `write` again after each partial write.
 *
 * @param writer Where to write.
 * @param bytes What to write.
 * @throws {Error} When `write` reports writing no bytes (or a negative count) for a
 *   non-empty rest, rather than looping forever.
 *
 * @example A writer that takes two bytes at a time
 * ```ts
 * import { writeAll } from "@weir/weir/connectors/stdio";
 * import { assertEquals } from "@std/assert";
 *
 * const calls: number[] = [];
 * const writer = { write: (p: Uint8Array) => (calls.push(p.length), Promise.resolve(Math.min(2, p.length))) };
 * await writeAll(writer, new Uint8Array(5));
 * assertEquals(calls, [5, 3, 1]);
 * ```
 */
export async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    const n = await writer.write(bytes.subarray(off));
    if (!(n > 0)) {
      throw new Error(`The writer wrote ${n} bytes of ${bytes.length - off}; expected at least 1`);
    }
    off += n;
  }
}

/**
 * Prints each item on its own line, rendered by {@linkcode formatLine}. Each batch is encoded
 * once and written with a single write (repeated only for partial writes), so lines of
 * concurrent writers never interleave within a batch. Like Bytewax's `StdOutSink`: a dynamic
 * sink, at-least-once; with several workers, each prints what reaches it.
 *
 * @typeParam T The items.
 *
 * @example Capturing the output of a run
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { StdOutSink } from "@weir/weir/connectors/stdio";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const chunks: Uint8Array[] = [];
 * const writer = { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)) };
 * const flow = new Dataflow("print");
 * flow.input("inp", new TestingSource<unknown>(["a", 1, { b: 2 }], { batchSize: 3 }))
 *   .output("out", new StdOutSink({ writer }));
 * await runMain(flow);
 * assertEquals(chunks.length, 1);
 * assertEquals(new TextDecoder().decode(chunks[0]), 'a\n1\n{"b":2}\n');
 * ```
 */
export class StdOutSink<T = unknown> implements DynamicSink<T> {
  readonly #writer: ByteWriter | undefined;

  /**
   * Writes one line per item.
   *
   * @param options Where to write (default `Deno.stdout`).
   */
  constructor(options: StdOutSinkOptions = {}) {
    this.#writer = options.writer;
  }

  /**
   * Builds this worker's writer.
   *
   * @returns A partition whose `writeBatch` resolves once the whole batch is written.
   */
  build(): StatelessSinkPartition<T> {
    const writer = this.#writer ?? Deno.stdout;
    return {
      writeBatch(items: T[]): Promise<void> {
        if (items.length === 0) return Promise.resolve();
        let text = "";
        for (let i = 0; i < items.length; i++) text += formatLine(items[i]) + "\n";
        return writeAll(writer, encoder.encode(text));
      },
    };
  }
}

/** Options of {@linkcode StdInSource}. */
export interface StdInSourceOptions {
  /** Lines per batch at most (default 1000). */
  readonly batchSize?: number;
  /**
   * How long a poll waits for input before returning an empty batch, in ms of the run's
   * clock (default 100). Keeps epochs moving while stdin is idle.
   */
  readonly maxWaitMs?: number;
  /** What to read (default `Deno.stdin.readable`); for tests and pipes. */
  readonly stream?: ReadableStream<Uint8Array>;
}

/**
 * Reads lines from standard input without blocking the scheduler (Bytewax has no such
 * source; its `FileSource` reads files only).
 *
 * Lines:
 * - are split on `\n`, with a `\r` just before it (or at the very end) removed;
 * - are decoded as UTF-8 with a streaming decoder, so a character split between two reads
 *   comes out whole (invalid bytes become U+FFFD);
 * - include blank lines, as `""`, and a last line without a newline.
 *
 * Only worker 0 reads; the other workers' partitions end at once. The input ends at the end
 * of the stream; an error of the stream fails the run (after the lines read before it).
 *
 * Polling: a background reader decodes the stream into a queue of lines, and pauses while
 * the queue holds `2 × batchSize` lines or more (so a fast producer is not buffered whole). A
 * poll returns up to `batchSize` queued lines at once; with none queued, it returns a Promise
 * that resolves as soon as lines arrive, or with `[]` after `maxWaitMs` of the run's clock,
 * so epochs keep ending while stdin is idle. Once the stream ended and the queue is empty it
 * returns `EOF`. Closing the partition cancels the stream.
 *
 * @example Reading an injected stream
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { StdInSource } from "@weir/weir/connectors/stdio";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const stream = ReadableStream.from([new TextEncoder().encode("one\r\ntwo\n\nthree")]);
 * const out: string[] = [];
 * const flow = new Dataflow("read");
 * flow.input("stdin", new StdInSource({ stream })).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["one", "two", "", "three"]);
 * ```
 */
export class StdInSource implements DynamicSource<string> {
  readonly #batchSize: number;
  readonly #maxWaitMs: number;
  readonly #stream: ReadableStream<Uint8Array> | undefined;

  /**
   * Reads lines from standard input (or `options.stream`).
   *
   * @param options Batch size, idle wait, and the stream to read.
   * @throws {RangeError} When `batchSize` is not a positive integer or `maxWaitMs` is not a
   *   number >= 0.
   */
  constructor(options: StdInSourceOptions = {}) {
    this.#batchSize = options.batchSize ?? 1000;
    this.#maxWaitMs = options.maxWaitMs ?? 100;
    this.#stream = options.stream;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${this.#batchSize}`);
    }
    if (typeof this.#maxWaitMs !== "number" || !(this.#maxWaitMs >= 0)) {
      throw new RangeError(`maxWaitMs must be a number >= 0, got ${this.#maxWaitMs}`);
    }
  }

  /**
   * Builds this worker's reader: worker 0 reads the stream, the others end at once.
   *
   * @param _stepId Fully qualified id of the input step.
   * @param workerIndex This worker's index, from 0.
   * @param _workerCount How many workers run the flow.
   * @param ctx The run's clock, which measures `maxWaitMs`.
   * @returns The partition.
   */
  build(
    _stepId: string,
    workerIndex: number,
    _workerCount: number,
    ctx: PartitionContext,
  ): StatelessSourcePartition<string> {
    if (workerIndex !== 0) return { nextBatch: () => EOF };
    return new LineReader(
      this.#stream ?? Deno.stdin.readable,
      this.#batchSize,
      this.#maxWaitMs,
      ctx,
    );
  }
}

/** Reads a byte stream into a queue of lines in the background. */
class LineReader implements StatelessSourcePartition<string> {
  #queue: string[] = [];
  #head = 0;
  #partial = "";
  #ended = false;
  #closed = false;
  #error: { err: unknown } | undefined = undefined;
  /** Wakes a poll waiting for lines. */
  #notify: (() => void) | undefined = undefined;
  /** Wakes the reader paused on a full queue. */
  #resume: (() => void) | undefined = undefined;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #pump: Promise<void>;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly batchSize: number,
    private readonly maxWaitMs: number,
    private readonly ctx: PartitionContext,
  ) {
    this.#reader = stream.getReader();
    this.#pump = this.#run();
  }

  get #queued(): number {
    return this.#queue.length - this.#head;
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        while (this.#queued >= 2 * this.batchSize && !this.#closed) {
          await new Promise<void>((resolve) => this.#resume = resolve);
        }
        if (this.#closed) return;
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#add(this.#decoder.decode(value, { stream: true }));
      }
      this.#add(this.#decoder.decode());
      if (this.#partial !== "") this.#queue.push(stripCr(this.#partial));
      this.#partial = "";
    } catch (err) {
      if (!this.#closed) this.#error = { err };
    } finally {
      this.#ended = true;
      this.#wake();
    }
  }

  #add(text: string): void {
    if (text === "") return;
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop()!;
    for (const line of parts) this.#queue.push(stripCr(line));
    if (parts.length > 0) this.#wake();
  }

  #wake(): void {
    const n = this.#notify;
    this.#notify = undefined;
    n?.();
  }

  #take(): string[] {
    const end = Math.min(this.#queue.length, this.#head + this.batchSize);
    const batch = this.#queue.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
    return batch;
  }

  nextBatch(): string[] | EOF | Promise<string[] | EOF> {
    if (this.#queued > 0) return this.#take();
    if (this.#error !== undefined) throw this.#error.err;
    if (this.#ended) return EOF;
    const ac = new AbortController();
    const arrived = new Promise<void>((resolve) => this.#notify = resolve);
    const timedOut = this.ctx.clock.sleepUntil(this.ctx.clock.now() + this.maxWaitMs, ac.signal);
    return Promise.race([arrived, timedOut]).then(() => {
      ac.abort();
      this.#notify = undefined;
      if (this.#queued > 0) return this.#take();
      if (this.#error !== undefined) throw this.#error.err;
      return this.#ended ? EOF : [];
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
    try {
      await this.#reader.cancel();
    } catch {
      // Already closed or errored: nothing to release.
    }
    await this.#pump;
  }
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
