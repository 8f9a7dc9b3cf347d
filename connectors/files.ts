/**
 * File connectors for Deno: read a file line by line, resumably.
 *
 * @module
 */
import {
  EOF,
  type FixedPartitionedSource,
  type PartitionContext,
  type StatefulSourcePartition,
} from "../mod.ts";

/** Options of {@linkcode FileSource}. */
export interface FileSourceOptions {
  /** Lines per batch (default 1000). */
  readonly batchSize?: number;
  /** Bytes read per system call (default 64 KiB). */
  readonly chunkSize?: number;
}

/**
 * Reads a UTF-8 text file line by line: one partition named after the path, whose snapshot
 * is the byte offset of the next line, so a resumed run continues exactly after the last line
 * of the last committed epoch. Lines come without their `\n` (and without a `\r` before it);
 * blank lines are kept as `""`; a last line without a newline is emitted too. Like Bytewax's
 * `FileSource`.
 *
 * @example Reading a file
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { FileSource } from "@weir/weir/connectors/files";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "one\n\nthree");
 * const out: string[] = [];
 * const flow = new Dataflow("read");
 * flow.input("lines", new FileSource(path)).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["one", "", "three"]);
 * await Deno.remove(path);
 * ```
 */
export class FileSource implements FixedPartitionedSource<string, number> {
  readonly #batchSize: number;
  readonly #chunkSize: number;

  /**
   * @param path The file to read.
   * @param options Batch and chunk sizes.
   */
  constructor(readonly path: string, options: FileSourceOptions = {}) {
    this.#batchSize = options.batchSize ?? 1000;
    this.#chunkSize = options.chunkSize ?? 65536;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${this.#batchSize}`);
    }
    if (!Number.isInteger(this.#chunkSize) || this.#chunkSize < 1) {
      throw new RangeError(`chunkSize must be a positive integer, got ${this.#chunkSize}`);
    }
  }

  /** One partition: the path. */
  listParts(): string[] {
    return [this.path];
  }

  /** Opens the file at the resume offset (0 on a fresh start). */
  async buildPart(
    _stepId: string,
    _forPart: string,
    resumeState: number | undefined,
    _ctx?: PartitionContext,
  ): Promise<StatefulSourcePartition<string, number>> {
    const file = await Deno.open(this.path, { read: true });
    const offset = resumeState ?? 0;
    if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
    return new FilePartition(file, offset, this.#batchSize, this.#chunkSize);
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;

class FilePartition implements StatefulSourcePartition<string, number> {
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #pos = 0;
  #eof = false;
  #closed = false;
  readonly #decoder = new TextDecoder();

  constructor(
    private readonly file: Deno.FsFile,
    private offset: number,
    private readonly batchSize: number,
    private readonly chunkSize: number,
  ) {}

  async nextBatch(): Promise<string[] | typeof EOF> {
    const lines: string[] = [];
    while (lines.length < this.batchSize) {
      const nl = this.#buf.indexOf(NEWLINE, this.#pos);
      if (nl >= 0) {
        lines.push(this.#line(this.#pos, nl));
        this.offset += nl + 1 - this.#pos;
        this.#pos = nl + 1;
        continue;
      }
      if (this.#eof) {
        if (this.#pos < this.#buf.length) {
          lines.push(this.#line(this.#pos, this.#buf.length));
          this.offset += this.#buf.length - this.#pos;
          this.#pos = this.#buf.length;
        }
        break;
      }
      await this.#fill();
    }
    return lines.length > 0 ? lines : EOF;
  }

  #line(start: number, end: number): string {
    if (end > start && this.#buf[end - 1] === CR) end--;
    return this.#decoder.decode(this.#buf.subarray(start, end));
  }

  /** Reads one more chunk after the unconsumed bytes. */
  async #fill(): Promise<void> {
    const rest = this.#buf.subarray(this.#pos);
    const next = new Uint8Array(rest.length + this.chunkSize);
    next.set(rest);
    const n = await this.file.read(next.subarray(rest.length));
    if (n === null) {
      this.#eof = true;
      this.#buf = next.subarray(0, rest.length);
    } else {
      this.#buf = next.subarray(0, rest.length + n);
    }
    this.#pos = 0;
  }

  snapshot(): number {
    return this.offset;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.file.close();
  }
}
