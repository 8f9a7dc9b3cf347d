/**
 * File connectors for Deno, all resumable at a byte offset:
 * - {@linkcode FileSource} reads a file line by line;
 * - {@linkcode DirSource} reads the files of a directory that match a glob, one partition per
 *   file (lines by default, or CSV or JSON lines);
 * - {@linkcode FileSink} writes one line per value to a file, exactly once;
 * - {@linkcode DirSink} writes one line per value to N files of a directory, chosen by key,
 *   exactly once.
 *
 * Like Bytewax's `bytewax.connectors.files`.
 *
 * @module
 */
import {
  adler32,
  type FixedPartitionedSink,
  type PartitionContext,
  type StatefulSinkPartition,
} from "../mod.ts";
import { formatLine } from "./stdio.ts";
import { buildSingleFilePart, checkSinkPath, openSinkFile } from "./_file_sink.ts";

export {
  DirSource,
  type DirSourceOptions,
  FileSource,
  type FileSourceOptions,
} from "./_file_sources.ts";

/**
 * Options of {@linkcode FileSink} (and of {@linkcode DirSink}).
 *
 * @typeParam V The values written.
 *
 * @example Comma-separated values, one per line ending in CRLF
 * ```ts
 * import { type FileSinkOptions } from "@weir/weir/connectors/files";
 * import { assertEquals } from "@std/assert";
 *
 * const options: FileSinkOptions<[string, number]> = {
 *   formatter: ([name, n]) => `${name},${n}`,
 *   end: "\r\n",
 * };
 * assertEquals(options.formatter!(["a", 1]) + options.end, "a,1\r\n");
 * ```
 */
export interface FileSinkOptions<V> {
  /**
   * Renders a value as a line, without its end (default: {@linkcode formatLine} from
   * `@weir/weir/connectors/stdio` — strings as they are, plain objects and arrays as JSON,
   * other values with `String()`). Must return a string.
   */
  readonly formatter?: (value: V) => string;
  /** Written after each line (default `"\n"`). */
  readonly end?: string;
}

/**
 * Writes each value as a line to one file, exactly once: a fixed-partitioned sink with one
 * partition named after the path. Like Bytewax's `FileSink`.
 *
 * Consumes `[key, value]` pairs and writes the value (the key is ignored), rendered by
 * `options.formatter` and followed by `options.end`.
 *
 * Durability and exactly-once output:
 * - each batch is encoded into one buffer, appended with one write (repeated only for a partial
 *   write) and made durable with `syncData` (fdatasync) before `writeBatch` resolves;
 * - the partition's snapshot is the byte offset just after the last written line;
 * - built without a resume state (a fresh run) the file is created, or truncated to 0 bytes;
 * - built from a snapshot (a resumed run), the file is truncated to that offset, discarding
 *   whatever was written after the snapshot (output of an epoch that never committed), and
 *   writes continue after it. An offset beyond the file's end means that someone else replaced
 *   or truncated the file: the build fails rather than padding it.
 *
 * Resume states come from recovery: `run(flow, { recovery })` rebuilds the partition from the
 * last committed epoch's offset (tests/recovery/crash_slow_test.ts checks it with SIGKILLed processes).
 *
 * Exactly-once holds for a file nobody else writes, read after the run finished: a reader
 * tailing it during a run may see lines that a resumed run then truncates.
 *
 * The partition is built (and the file created or truncated) on its first write, so a run that
 * writes nothing leaves an existing file as it was. The file's directory must exist; it is not
 * created.
 *
 * Failures (a missing directory, a path that is a directory, a failed write or sync, a bad
 * resume offset) throw an `Error` naming the path, with the original error as `cause`; the run
 * rejects with a `DataflowError` naming the output step and the partition.
 *
 * @typeParam V The values written.
 *
 * @example Writing lines
 * ```ts
 * import { Dataflow, keyOn } from "@weir/weir";
 * import { FileSink } from "@weir/weir/connectors/files";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/out.txt`;
 * const flow = new Dataflow("write");
 * flow.input("inp", new TestingSource<unknown>(["a", 2, { c: 3 }]))
 *   .pipe(keyOn("key", () => "all"))
 *   .output("out", new FileSink(path));
 * await runMain(flow);
 * assertEquals(await Deno.readTextFile(path), 'a\n2\n{"c":3}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @example Resuming from a snapshot truncates what came after it
 * ```ts
 * import { TestClock } from "@weir/weir/testing";
 * import { FileSink } from "@weir/weir/connectors/files";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/out.txt`;
 * const sink = new FileSink<string>(path);
 * const ctx = { clock: new TestClock(), workerIndex: 0, workerCount: 1 };
 * const first = await sink.buildPart("f.out", path, undefined, ctx);
 * await first.writeBatch(["one", "two"]);
 * const offset = first.snapshot(); // 8: the epoch committed here
 * await first.writeBatch(["three"]); // written, but its epoch never committed
 * await first.close?.();
 * const resumed = await sink.buildPart("f.out", path, offset, ctx);
 * await resumed.writeBatch(["four"]);
 * await resumed.close?.();
 * assertEquals(await Deno.readTextFile(path), "one\ntwo\nfour\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileSink<V = unknown> implements FixedPartitionedSink<V, number> {
  /** The class constructed (`FileSink`, or a subclass such as `JSONLinesSink`), for errors. */
  readonly #sink: string;
  readonly #formatter: (value: V) => string;
  readonly #end: string;

  /**
   * Writes one line per item to `path`, in one partition.
   *
   * @param path The file to write; its directory must exist.
   * @param options The line formatter and end.
   * @throws {TypeError} When `path` is not a non-empty string, `formatter` not a function or
   *   `end` not a string.
   */
  constructor(readonly path: string, options: FileSinkOptions<V> = {}) {
    this.#sink = new.target.name;
    checkSinkPath(this.#sink, path);
    [this.#formatter, this.#end] = checkLineOptions(options);
  }

  /** One partition: the path. */
  listParts(): string[] {
    return [this.path];
  }

  /**
   * Opens the file: truncated to 0 bytes on a fresh start, truncated to `resumeState` on a
   * resume.
   *
   * @param _stepId Fully qualified id of the output step.
   * @param forPart The partition: the path.
   * @param resumeState The byte offset snapshotted by the previous run, or `undefined`.
   * @returns The partition, writing after the offset.
   * @throws {Error} Naming the path, when the file cannot be opened, created or truncated, or
   *   when `resumeState` is not a non-negative integer or lies beyond the file's end.
   */
  async buildPart(
    _stepId: string,
    forPart: string,
    resumeState: number | undefined,
    _ctx?: PartitionContext,
  ): Promise<StatefulSinkPartition<V, number>> {
    const format = lineFormat(this.path, this.#formatter, this.#end);
    return await buildSingleFilePart(this.#sink, this.path, forPart, resumeState, format);
  }
}

/**
 * Options of {@linkcode DirSink}: those of {@linkcode FileSink}, plus the file names and the
 * choice of a file per key.
 *
 * @typeParam V The values written.
 *
 * @example Files named `out-00.jsonl`, `out-01.jsonl`, …, chosen by the key as a number
 * ```ts
 * import { type DirSinkOptions } from "@weir/weir/connectors/files";
 * import { assertEquals } from "@std/assert";
 *
 * const options: DirSinkOptions<unknown> = {
 *   fileNamer: (i) => `out-${String(i).padStart(2, "0")}.jsonl`,
 *   assignFile: (key) => Number(key),
 * };
 * assertEquals(options.fileNamer!(3, 12), "out-03.jsonl");
 * ```
 */
export interface DirSinkOptions<V> extends FileSinkOptions<V> {
  /**
   * Names file `index` of `count` (default `` `part_${index}` ``). Names must be distinct
   * non-empty strings; they are joined to the directory with `/`.
   */
  readonly fileNamer?: (index: number, count: number) => string;
  /**
   * Maps a key to a file index, taken modulo the file count (default: {@linkcode adler32} of
   * the key). The index points into the file names sorted as strings, like Bytewax: with 12
   * files, index 2 is `part_10`.
   */
  readonly assignFile?: (key: string) => number;
}

/**
 * Writes each value as a line to one of `fileCount` files in a directory, chosen by key,
 * exactly once: a fixed-partitioned sink with a partition per file. Like Bytewax's `DirSink`.
 *
 * Consumes `[key, value]` pairs. The files are named by `options.fileNamer` (default
 * `part_0` … `part_{N-1}`); `options.assignFile(key)` (default {@linkcode adler32}) modulo the
 * file count is an index into the file names **sorted as strings** — with 12 files,
 * `part_10` comes before `part_2`, as in Bytewax — so the same key always lands in the same
 * file. Each file behaves as a {@linkcode FileSink}: one write and one `syncData` per batch,
 * a byte-offset snapshot, truncation to the offset on resume, refusal of an offset beyond
 * the file's end. The directory must exist; it is not created. A file is created (or
 * truncated) on its partition's first write, so files no key reaches keep their old content.
 *
 * @typeParam V The values written.
 *
 * @example Three files, chosen by the key as a number
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { DirSink } from "@weir/weir/connectors/files";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const flow = new Dataflow("write_dir");
 * const items: [string, string][] = [["0", "a"], ["1", "b"], ["2", "c"], ["3", "d"]];
 * flow.input("inp", new TestingSource(items))
 *   .output("out", new DirSink(dir, 3, { assignFile: (key) => Number(key) }));
 * await runMain(flow);
 * assertEquals(await Deno.readTextFile(`${dir}/part_0`), "a\nd\n");
 * assertEquals(await Deno.readTextFile(`${dir}/part_1`), "b\n");
 * assertEquals(await Deno.readTextFile(`${dir}/part_2`), "c\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DirSink<V = unknown> implements FixedPartitionedSink<V, number> {
  readonly #names: string[];
  readonly #formatter: (value: V) => string;
  readonly #end: string;
  readonly #assignFile: (key: string) => number;

  /**
   * Writes each key's values to one of `fileCount` files in `dir`.
   *
   * @param dir The directory; it must exist.
   * @param fileCount How many files (partitions), at least 1.
   * @param options File names, key assignment, line formatter and end.
   * @throws {TypeError} When `dir` is not a non-empty string, an option has the wrong type or
   *   `fileNamer` returns something other than a non-empty string.
   * @throws {RangeError} When `fileCount` is not a positive integer or two files get the
   *   same name.
   */
  constructor(readonly dir: string, readonly fileCount: number, options: DirSinkOptions<V> = {}) {
    if (typeof dir !== "string" || dir === "") {
      throw new TypeError(`DirSink needs a non-empty directory, got ${JSON.stringify(dir)}`);
    }
    if (!Number.isSafeInteger(fileCount) || fileCount < 1) {
      throw new RangeError(`fileCount must be a positive integer, got ${fileCount}`);
    }
    [this.#formatter, this.#end] = checkLineOptions(options);
    const namer = options.fileNamer ?? ((i: number) => `part_${i}`);
    if (typeof namer !== "function") throw new TypeError("fileNamer must be a function");
    const assign = options.assignFile ?? adler32;
    if (typeof assign !== "function") throw new TypeError("assignFile must be a function");
    this.#assignFile = assign;
    this.#names = [];
    const seen = new Set<string>();
    for (let i = 0; i < fileCount; i++) {
      const name = namer(i, fileCount);
      if (typeof name !== "string" || name === "") {
        throw new TypeError(
          `fileNamer(${i}, ${fileCount}) must return a non-empty string, got ${
            JSON.stringify(name)
          }`,
        );
      }
      if (seen.has(name)) {
        throw new RangeError(`fileNamer gives two files the name ${JSON.stringify(name)}`);
      }
      seen.add(name);
      this.#names.push(name);
    }
  }

  /** The file names, in `fileNamer` order (the runtime sorts them). */
  listParts(): string[] {
    return [...this.#names];
  }

  /**
   * The file index of `key`, before the modulo: `options.assignFile(key)`.
   *
   * @param key The item's key.
   */
  partFn(key: string): number {
    return this.#assignFile(key);
  }

  /**
   * The path of one file: the directory and the file's name joined with `/`.
   *
   * @param part A file name, one of `listParts()`.
   */
  pathOf(part: string): string {
    return /[\\/]$/.test(this.dir) ? this.dir + part : `${this.dir}/${part}`;
  }

  /**
   * Opens one file: truncated to 0 bytes on a fresh start, truncated to `resumeState` on a
   * resume (see {@linkcode FileSink.buildPart}).
   *
   * @param _stepId Fully qualified id of the output step.
   * @param forPart The file name, one of `listParts()`.
   * @param resumeState The byte offset snapshotted by the previous run, or `undefined`.
   * @returns The partition, writing after the offset.
   * @throws {Error} Naming the path, when the file cannot be opened, created or truncated, or
   *   when `resumeState` is not a non-negative integer or lies beyond the file's end.
   */
  async buildPart(
    _stepId: string,
    forPart: string,
    resumeState: number | undefined,
    _ctx?: PartitionContext,
  ): Promise<StatefulSinkPartition<V, number>> {
    if (!this.#names.includes(forPart)) {
      throw new RangeError(
        `DirSink of ${JSON.stringify(this.dir)} has no file ${JSON.stringify(forPart)}`,
      );
    }
    const path = this.pathOf(forPart);
    return await openSinkFile(path, resumeState, lineFormat(path, this.#formatter, this.#end));
  }
}

function checkLineOptions<V>(options: FileSinkOptions<V>): [(value: V) => string, string] {
  const formatter = options.formatter ?? formatLine;
  const end = options.end ?? "\n";
  if (typeof formatter !== "function") throw new TypeError("formatter must be a function");
  if (typeof end !== "string") throw new TypeError(`end must be a string, got ${typeof end}`);
  return [formatter, end];
}

/**
 * The batch formatter of FileSink and DirSink: each value through `formatter`, followed by
 * `end`. Refuses a formatter result that is not a string.
 */
function lineFormat<V>(path: string, formatter: (value: V) => string, end: string) {
  return (values: V[]): string => {
    let text = "";
    for (let i = 0; i < values.length; i++) {
      const line = formatter(values[i]!);
      if (typeof line !== "string") {
        throw new TypeError(
          `The formatter of ${JSON.stringify(path)} must return a string, got ${typeof line}`,
        );
      }
      text += line + end;
    }
    return text;
  };
}
