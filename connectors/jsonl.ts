/**
 * JSON lines files (one JSON value per line), resumable at a byte offset:
 * - {@linkcode JSONLinesSource} reads and parses each line;
 * - {@linkcode JSONLinesSink} writes each value as one line of JSON, exactly once.
 *
 * @module
 */
import { EOF, type PartitionContext, type StatefulSourcePartition } from "../mod.ts";
import { DeadLetter } from "../src/serde/mod.ts";
import type { FixedPartitionedSource, SourceProgress } from "../mod.ts";
import {
  checkPosition,
  checkRecordSource,
  type FilePosition,
  openForReading,
  RecordReader,
} from "./_records.ts";
import { FileSink } from "./files.ts";

export type { FilePosition };

/**
 * Options of {@linkcode JSONLinesSource}.
 *
 * @typeParam B `"fail"` (default) or `"emit"`.
 */
export interface JSONLinesSourceOptions<B extends "fail" | "emit" = "fail"> {
  /**
   * A line that is not JSON: `"fail"` (default) stops the run with a `DataflowError` naming
   * the step, the path and the line; `"emit"` emits a {@linkcode DeadLetter} (the line's
   * text, the `SyntaxError`, path, line) among the values and reads on.
   */
  readonly badRecords?: B;
  /** Lines per batch (default 1000). */
  readonly batchSize?: number;
  /** Bytes read per system call (default 64 KiB). */
  readonly chunkSize?: number;
}

/**
 * Reads a UTF-8 file of JSON lines: one partition named after the path, one value per
 * non-blank line (`JSON.parse`; blank lines are skipped, `\r\n` is fine, a leading BOM is
 * dropped), whose snapshot is a {@linkcode FilePosition}, so a resumed run continues exactly
 * after the last line of the last committed epoch.
 *
 * @typeParam T The values, as the caller expects them (not checked).
 * @typeParam B `"fail"` (values only) or `"emit"` (values and dead letters).
 *
 * @example A bad line as a dead letter
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { type DeadLetter, isDeadLetter } from "@weir/weir/serde";
 * import { JSONLinesSource } from "@weir/weir/connectors/jsonl";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"n":1}\n{n:2}\n\n{"n":3}\n');
 * const flow = new Dataflow("read_jsonl");
 * const { trues: bad, falses: values } = flow
 *   .input("inp", new JSONLinesSource<{ n: number }, "emit">(path, { badRecords: "emit" }))
 *   .branch("split", isDeadLetter);
 * const good: { n: number }[] = [];
 * const letters: DeadLetter<string>[] = [];
 * values.output("good", new TestingSink(good));
 * bad.output("bad", new TestingSink(letters));
 * await runMain(flow);
 * assertEquals(good, [{ n: 1 }, { n: 3 }]);
 * assertEquals(letters.map((l) => [l.raw, l.path === path, l.line]), [["{n:2}", true, 2]]);
 * await Deno.remove(path);
 * ```
 */
export class JSONLinesSource<T = unknown, B extends "fail" | "emit" = "fail">
  implements FixedPartitionedSource<B extends "emit" ? T | DeadLetter<string> : T, FilePosition> {
  readonly #emit: boolean;
  readonly #batchSize: number;
  readonly #chunkSize: number;

  /**
   * A JSON-lines source reading `path`.
   *
   * @param path The file to read.
   * @param options Bad-line policy, batch and chunk sizes.
   * @throws {TypeError} When `path` is not a non-empty string.
   * @throws {RangeError} When a size is not a positive integer or `badRecords` is unknown.
   */
  constructor(readonly path: string, options: JSONLinesSourceOptions<B> = {}) {
    const checked = checkRecordSource("JSONLinesSource", path, options);
    this.#batchSize = checked.batchSize;
    this.#chunkSize = checked.chunkSize;
    this.#emit = checked.emit;
  }

  /** One partition: the path. */
  listParts(): string[] {
    return [this.path];
  }

  /** Opens the file at the resume position. Refuses a position beyond the file's end. */
  async buildPart(
    stepId: string,
    _forPart: string,
    resumeState: FilePosition | undefined,
    _ctx?: PartitionContext,
  ): Promise<
    StatefulSourcePartition<B extends "emit" ? T | DeadLetter<string> : T, FilePosition>
  > {
    checkPosition(this.path, resumeState);
    const file = await openForReading(this.path);
    try {
      const offset = resumeState?.offset ?? 0;
      if (offset > 0) {
        const { size } = await file.stat();
        if (offset > size) {
          throw new RangeError(
            `Cannot resume reading ${JSON.stringify(this.path)} at byte ${offset}: the file ` +
              `has only ${size} bytes now (it was truncated or replaced since the snapshot)`,
          );
        }
        await file.seek(offset, Deno.SeekMode.Start);
      }
      const reader = new RecordReader(file, offset, resumeState?.line ?? 1, this.#chunkSize, false);
      await reader.skipBom();
      const { size } = await file.stat();
      return new JSONLinesPartition(
        stepId,
        this.path,
        file,
        reader,
        this.#emit,
        this.#batchSize,
        size,
      ) as StatefulSourcePartition<never, FilePosition>;
    } catch (err) {
      file.close();
      throw err;
    }
  }
}

class JSONLinesPartition implements StatefulSourcePartition<unknown, FilePosition> {
  #closed = false;

  constructor(
    private readonly stepId: string,
    private readonly path: string,
    private readonly file: Deno.FsFile,
    private readonly reader: RecordReader,
    private readonly emit: boolean,
    private readonly batchSize: number,
    private readonly size: number,
  ) {}

  async nextBatch(): Promise<unknown[] | typeof EOF> {
    const batch = await this.reader.next(this.batchSize);
    if (batch === null) return EOF;
    const lines = batch.text.split("\n");
    const out: unknown[] = [];
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      if (text === "") continue;
      try {
        out.push(JSON.parse(text));
      } catch (err) {
        if (text.trim() === "") continue; // a blank line (only checked off the hot path)
        const line = batch.line + i;
        const raw = text.endsWith("\r") ? text.slice(0, -1) : text;
        if (!this.emit) {
          throw new Error(
            `Cannot parse the JSON line at ${JSON.stringify(this.path)} line ${line}: ` +
              `${(err as Error).message}; fix the file, or pass badRecords: "emit" to route ` +
              `bad lines to a dead-letter stream`,
            { cause: err },
          );
        }
        out.push(new DeadLetter(this.stepId, raw, err, { path: this.path, line }));
      }
    }
    return out;
  }

  snapshot(): FilePosition {
    return { offset: this.reader.offset, line: this.reader.line };
  }

  /** Bytes read (the offset of the next record) out of the file's size when opened. */
  progress(): SourceProgress {
    const position = this.reader.offset;
    return { position, end: Math.max(this.size, position) };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.file.close();
  }
}

/**
 * Writes each value as one line of JSON (`JSON.stringify`) to one file, exactly once: a
 * {@linkcode FileSink} with a JSON formatter — one partition named after the path, a
 * byte-offset snapshot, truncation to the snapshot on resume (see `FileSink` for the
 * guarantees). Consumes `[key, value]` pairs and writes the value. A value JSON cannot
 * represent (`undefined`, a function) fails the run naming the output step and the path.
 *
 * @typeParam V The values written.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { JSONLinesSink } from "@weir/weir/connectors/jsonl";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const flow = new Dataflow("write_jsonl");
 * flow.input("inp", new TestingSource<[string, unknown]>([["a", { n: 1 }], ["b", "two\n"]]))
 *   .output("out", new JSONLinesSink(`${dir}/out.jsonl`));
 * await runMain(flow);
 * assertEquals(await Deno.readTextFile(`${dir}/out.jsonl`), '{"n":1}\n"two\\n"\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class JSONLinesSink<V = unknown> extends FileSink<V> {
  /**
   * A JSON-lines sink writing to `path`.
   *
   * @param path The file to write; its directory must exist.
   * @throws {TypeError} When `path` is not a non-empty string.
   */
  constructor(path: string) {
    super(path, { formatter: toJSONLine });
  }
}

function toJSONLine(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(
      `JSON cannot represent a value of type ${typeof value}; map it to a JSON value first`,
    );
  }
  return text;
}
