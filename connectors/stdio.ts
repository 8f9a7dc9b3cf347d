/**
 * Standard input and output connectors for Deno.
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

/** Something bytes can be written to: `Deno.stdout`, a file, a test double. */
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
 * Renders an item as one line: strings as they are, other primitives with `String()`, plain
 * objects and arrays as JSON, anything else (class instances, Dates…) with `String()`.
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

/** Writes all of `bytes`, looping over partial writes. */
export async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await writer.write(bytes.subarray(off));
}

/**
 * Prints each item on its own line (see {@linkcode formatLine}), one write per batch. Like
 * Bytewax's `StdOutSink`: a dynamic sink, at-least-once.
 *
 * @example Capturing the output
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
 * assertEquals(new TextDecoder().decode(chunks[0]), 'a\n1\n{"b":2}\n');
 * assertEquals(chunks.length, 1);
 * ```
 */
export class StdOutSink<T = unknown> implements DynamicSink<T> {
  readonly #writer: ByteWriter | undefined;

  /** @param options Where to write. */
  constructor(options: StdOutSinkOptions = {}) {
    this.#writer = options.writer;
  }

  /** One writer per worker. */
  build(): StatelessSinkPartition<T> {
    const writer = this.#writer ?? Deno.stdout;
    return {
      writeBatch(items: T[]): Promise<void> {
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
 * Reads lines from standard input (UTF-8; `\n` or `\r\n`; blank lines kept as `""`; a last
 * line without a newline is emitted too). Only worker 0 reads; the input ends at EOF of
 * stdin. A background reader fills a queue, so polling never blocks the scheduler: a poll
 * returns the queued lines, or waits at most `maxWaitMs` for some.
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

  /** @param options Batch size, idle wait, and the stream to read. */
  constructor(options: StdInSourceOptions = {}) {
    this.#batchSize = options.batchSize ?? 1000;
    this.#maxWaitMs = options.maxWaitMs ?? 100;
    this.#stream = options.stream;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${this.#batchSize}`);
    }
    if (!(this.#maxWaitMs >= 0)) {
      throw new RangeError(`maxWaitMs must be >= 0, got ${this.#maxWaitMs}`);
    }
  }

  /** Worker 0 reads; the others end at once. */
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
  #error: { err: unknown } | undefined = undefined;
  #notify: (() => void) | undefined = undefined;
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

  async #run(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#add(this.#decoder.decode(value, { stream: true }));
      }
      this.#add(this.#decoder.decode());
      if (this.#partial !== "") {
        this.#queue.push(this.#partial);
        this.#partial = "";
      }
    } catch (err) {
      this.#error = { err };
    } finally {
      this.#ended = true;
      this.#wake();
    }
  }

  #add(text: string): void {
    if (text === "") return;
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop()!;
    for (const line of parts) this.#queue.push(line.endsWith("\r") ? line.slice(0, -1) : line);
    this.#wake();
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
    return batch;
  }

  nextBatch(): string[] | typeof EOF | Promise<string[] | typeof EOF> {
    if (this.#head < this.#queue.length) return this.#take();
    if (this.#error !== undefined) throw this.#error.err;
    if (this.#ended) return EOF;
    const ac = new AbortController();
    const arrived = new Promise<void>((resolve) => this.#notify = resolve);
    const timedOut = this.ctx.clock.sleepUntil(this.ctx.clock.now() + this.maxWaitMs, ac.signal);
    return Promise.race([arrived, timedOut]).then(() => {
      ac.abort();
      this.#notify = undefined;
      if (this.#head < this.#queue.length) return this.#take();
      if (this.#error !== undefined) throw this.#error.err;
      return this.#ended ? EOF : [];
    });
  }

  async close(): Promise<void> {
    try {
      await this.#reader.cancel();
    } catch {
      // Already closed or errored: nothing to release.
    }
    await this.#pump;
  }
}
