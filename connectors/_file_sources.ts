/**
 * The line sources of `@weir/weir/connectors/files`: {@linkcode FileSource} (one file, line by
 * line) and {@linkcode DirSource} (the files of a directory that match a glob, one partition per
 * file), both resumable at a byte offset. Public through `connectors/files.ts`.
 *
 * @module
 */
import {
  EOF,
  type FixedPartitionedSource,
  type PartitionContext,
  type SourceProgress,
  type StatefulSourcePartition,
} from "../mod.ts";
import { ioError } from "./_file_sink.ts";
import { readChunkAfter } from "./_records.ts";

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
   * Reads `path` line by line, in one partition named after the path.
   *
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

  /**
   * Opens the file at the resume offset (0 on a fresh start). Refuses an offset beyond the
   * file's end (the file was truncated or replaced since the snapshot).
   */
  async buildPart(
    _stepId: string,
    _forPart: string,
    resumeState: number | undefined,
    _ctx?: PartitionContext,
  ): Promise<StatefulSourcePartition<string, number>> {
    const offset = resumeState ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(
        `Cannot resume reading "${this.path}" at ${JSON.stringify(offset)}: the snapshot must ` +
          `be a byte offset (an integer >= 0)`,
      );
    }
    const file = await Deno.open(this.path, { read: true });
    const { size } = await file.stat();
    if (offset > 0) {
      if (offset > size) {
        file.close();
        // The file was replaced or truncated since the snapshot: reading on would skip or
        // repeat lines without a word.
        throw new RangeError(
          `Cannot resume reading "${this.path}" at byte ${offset}: the file has only ${size} ` +
            `bytes now (it was truncated or replaced since the snapshot)`,
        );
      }
      await file.seek(offset, Deno.SeekMode.Start);
    }
    return new FilePartition(file, offset, this.#batchSize, this.#chunkSize, size);
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
    private readonly size: number,
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
    const next = await readChunkAfter(this.file, rest, this.chunkSize);
    if (next === null) this.#eof = true;
    this.#buf = next ?? rest;
    this.#pos = 0;
  }

  snapshot(): number {
    return this.offset;
  }

  /** Bytes read (the offset of the next record) out of the file's size when opened. */
  progress(): SourceProgress {
    const position = this.offset;
    return { position, end: Math.max(this.size, position) };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.file.close();
  }
}

/**
 * Options of {@linkcode DirSource}.
 *
 * @typeParam T The items of one file.
 * @typeParam S One file's snapshot.
 */
export interface DirSourceOptions<T, S> {
  /**
   * Builds the reader of one file from its path (default: a {@linkcode FileSource}, lines).
   * It must be a one-partition source whose partition is the path, like `FileSource`,
   * `CSVSource` (`@weir/weir/connectors/csv`) and `JSONLinesSource`
   * (`@weir/weir/connectors/jsonl`).
   */
  readonly source?: (path: string) => FixedPartitionedSource<T, S>;
}

/**
 * Reads every file of a directory whose name matches a glob: one partition per file, named
 * after the file, each read and resumed like the one-file source that `options.source`
 * builds (a `FileSource` of lines by default), so a resumed run continues every file at its
 * own snapshot.
 *
 * The glob matches file names in `dir` itself (not in subdirectories): `*` is any run of
 * characters, `?` one character, anything else itself; names starting with `.` match only a
 * glob that starts with `.`. Only regular files are read.
 *
 * Files are listed once, when the run starts. A file added later is not read by that run;
 * the next run (a resume) lists it and reads it from the start. A file that disappears
 * between a run and its resume has a snapshot nothing lists, which the resume refuses (or,
 * with `dropOrphans`, forgets) like any renamed input. Appending to a file is fine: a resumed
 * run reads the new records after its offset. A file that shrank below its snapshot fails the
 * resume.
 *
 * @typeParam T The items.
 * @typeParam S One file's snapshot.
 *
 * @example Two files of lines, in name order
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { DirSource } from "@weir/weir/connectors/files";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.log`, "a1\na2\n");
 * await Deno.writeTextFile(`${dir}/b.log`, "b1\n");
 * await Deno.writeTextFile(`${dir}/notes.txt`, "skipped\n");
 * const source = new DirSource(dir, "*.log");
 * assertEquals(await source.listParts(), ["a.log", "b.log"]);
 * const out: string[] = [];
 * const flow = new Dataflow("read_dir");
 * flow.input("logs", source).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out.sort(), ["a1", "a2", "b1"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirSource<T = string, S = number> implements FixedPartitionedSource<T, S> {
  readonly #pattern: RegExp;
  readonly #source: (path: string) => FixedPartitionedSource<T, S>;

  /**
   * A source over the files of `dir` whose names match `glob`.
   *
   * @param dir The directory.
   * @param glob The file names to read, e.g. `"*.csv"`.
   * @param options The one-file source.
   * @throws {TypeError} When `dir` or `glob` is not a non-empty string, or `glob` holds `/`.
   */
  constructor(readonly dir: string, readonly glob: string, options: DirSourceOptions<T, S> = {}) {
    if (typeof dir !== "string" || dir === "") {
      throw new TypeError(`DirSource needs a non-empty directory, got ${JSON.stringify(dir)}`);
    }
    if (typeof glob !== "string" || glob === "" || glob.includes("/")) {
      throw new TypeError(
        `DirSource needs a glob of file names without "/", got ${JSON.stringify(glob)}`,
      );
    }
    this.#pattern = globToRegExp(glob);
    const source = options.source ??
      ((path: string) => new FileSource(path) as unknown as FixedPartitionedSource<T, S>);
    if (typeof source !== "function") throw new TypeError("source must be a function");
    this.#source = source;
  }

  /** The names of the matching regular files, sorted. */
  async listParts(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (entry.isFile && this.#pattern.test(entry.name)) names.push(entry.name);
      }
    } catch (err) {
      throw ioError(`Cannot list the directory ${JSON.stringify(this.dir)}`, err);
    }
    return names.sort();
  }

  /** The path of one file: the directory and the name joined with `/`. */
  pathOf(part: string): string {
    return /[\\/]$/.test(this.dir) ? this.dir + part : `${this.dir}/${part}`;
  }

  /** Builds the reader of one file with `options.source`, from its snapshot on a resume. */
  async buildPart(
    stepId: string,
    forPart: string,
    resumeState: S | undefined,
    ctx: PartitionContext,
  ): Promise<StatefulSourcePartition<T, S>> {
    const path = this.pathOf(forPart);
    return await this.#source(path).buildPart(stepId, path, resumeState, ctx);
  }
}

/** `*` and `?` over one path segment; a leading `.` only matched literally. */
function globToRegExp(glob: string): RegExp {
  let re = glob.startsWith(".") ? "^" : "^(?!\\.)";
  for (const ch of glob) {
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(re + "$");
}
