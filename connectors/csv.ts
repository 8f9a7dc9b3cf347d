/**
 * CSV files, resumable at a byte offset:
 * - {@linkcode CSVSource} reads records (RFC 4180 quoting, newlines inside quoted fields, a
 *   header line naming the columns) as objects;
 * - {@linkcode CSVSink} writes values as CSV records, exactly once.
 *
 * Parsing and quoting are `csv-parse` and `csv-stringify` (the CSV project's parser and
 * stringifier: RFC 4180, maintained, tested against large data sets). weir finds the record
 * boundaries itself, in bytes, so that every snapshot is the byte offset of a record
 * boundary and the line number of the next record.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import {
  EOF,
  type FixedPartitionedSink,
  type FixedPartitionedSource,
  type PartitionContext,
  type SourceProgress,
  type StatefulSinkPartition,
  type StatefulSourcePartition,
} from "../mod.ts";
import { DeadLetter } from "../src/serde/mod.ts";
import {
  checkPosition,
  checkRecordSource,
  type FilePosition,
  openForReading,
  RecordReader,
} from "./_records.ts";

export type { FilePosition };
import { buildSingleFilePart, checkSinkPath } from "./_file_sink.ts";

/** A CSV record: column name → field text. */
export type CSVRow = Record<string, string>;

/** What a file source does with a record it cannot parse. */
export type BadRecords = "fail" | "emit";

/**
 * Options of {@linkcode CSVSource}.
 *
 * @typeParam B `"fail"` (default) or `"emit"`.
 */
export interface CSVSourceOptions<B extends BadRecords = "fail"> {
  /**
   * The column names, for a file without a header line. Without it (the default) the
   * first record is the header.
   */
  readonly columns?: readonly string[];
  /** The field delimiter (default `","`). */
  readonly delimiter?: string;
  /**
   * Accept records with fewer or more fields than columns (default false: such a ragged
   * record is a bad record). A short record lacks the missing columns' keys.
   */
  readonly relaxColumnCount?: boolean;
  /**
   * A record that cannot be parsed (an unclosed quote, a stray quote, a ragged row): `"fail"`
   * (default) stops the run with a `DataflowError` naming the step, the path and the line;
   * `"emit"` emits a {@linkcode DeadLetter} (raw record text, reason, path, line) among the
   * rows and reads on — split them off with `branch(id, isDeadLetter)`. The reason is the
   * parser's error with its record-relative line number taken out of the message (its `name`
   * is csv-parse's code, e.g. `CSV_RECORD_INCONSISTENT_COLUMNS`; the parser's own error is its
   * `cause`).
   */
  readonly badRecords?: B;
  /** Records per batch (default 1000). */
  readonly batchSize?: number;
  /** Bytes read per system call (default 64 KiB). */
  readonly chunkSize?: number;
}

/**
 * Reads a UTF-8 CSV file as objects, one per record: one partition named after the path,
 * whose snapshot is a {@linkcode FilePosition}, so a resumed run continues exactly after the
 * last record of the last committed epoch.
 *
 * Format: RFC 4180 as `csv-parse` reads it — fields in double quotes may hold the delimiter,
 * `""` for a quote, and line breaks; records end in `\n` or `\r\n`; a leading UTF-8 BOM is
 * dropped; empty lines are skipped; fields are strings (no type casting). The first record
 * names the columns unless `options.columns` does. A resumed run reads the header again from
 * the start of the file, then continues at the offset.
 *
 * Bad records: see {@linkcode CSVSourceOptions.badRecords}. Line numbers are those of the
 * file, counting line breaks inside quoted fields, so an editor shows the record.
 *
 * A stray quote inside an unquoted field opens a quoted field as far as the record boundary
 * is concerned (as in RFC 4180): the record then runs to the next quote, and is reported as
 * one bad record starting at the stray quote's line.
 *
 * @typeParam B `"fail"` (rows only) or `"emit"` (rows and dead letters).
 *
 * @example Quoted fields with commas, quotes and a line break
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { CSVSource } from "@weir/weir/connectors/csv";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, 'id,note\r\n1,"a, b"\r\n2,"say ""hi""\nthen go"\r\n');
 * const rows: Record<string, string>[] = [];
 * const flow = new Dataflow("read_csv");
 * flow.input("rows", new CSVSource(path)).output("out", new TestingSink(rows));
 * await runMain(flow);
 * assertEquals(rows, [{ id: "1", note: "a, b" }, { id: "2", note: 'say "hi"\nthen go' }]);
 * await Deno.remove(path);
 * ```
 *
 * @example Bad records as dead letters
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { type DeadLetter, isDeadLetter } from "@weir/weir/serde";
 * import { CSVSource } from "@weir/weir/connectors/csv";
 * import { runMain, TestingSink } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "a,b\n1,2\n3\n4,5\n");
 * const flow = new Dataflow("read_csv");
 * const { trues: bad, falses: rows } = flow
 *   .input("rows", new CSVSource(path, { badRecords: "emit" }))
 *   .branch("split", isDeadLetter);
 * const good: Record<string, string>[] = [];
 * const letters: DeadLetter<string>[] = [];
 * rows.output("good", new TestingSink(good));
 * bad.output("bad", new TestingSink(letters));
 * await runMain(flow);
 * assertEquals(good, [{ a: "1", b: "2" }, { a: "4", b: "5" }]);
 * assertEquals(letters.map((l) => [l.raw, l.line]), [["3\n", 3]]);
 * await Deno.remove(path);
 * ```
 */
export class CSVSource<B extends BadRecords = "fail">
  implements
    FixedPartitionedSource<B extends "emit" ? CSVRow | DeadLetter<string> : CSVRow, FilePosition> {
  readonly #options: ParseOptions;
  readonly #batchSize: number;
  readonly #chunkSize: number;

  /**
   * A CSV source reading `path`.
   *
   * @param path The file to read.
   * @param options Columns, delimiter, bad-record policy, batch and chunk sizes.
   * @throws {TypeError} When `path` is not a non-empty string or `columns` not strings.
   * @throws {RangeError} When a size is not a positive integer or `badRecords` is unknown.
   */
  constructor(readonly path: string, options: CSVSourceOptions<B> = {}) {
    const checked = checkRecordSource("CSVSource", path, options);
    this.#batchSize = checked.batchSize;
    this.#chunkSize = checked.chunkSize;
    const columns = options.columns;
    if (
      columns !== undefined &&
      (!Array.isArray(columns) || columns.length === 0 ||
        columns.some((c) => typeof c !== "string"))
    ) {
      throw new TypeError("columns must be a non-empty array of strings");
    }
    this.#options = {
      delimiter: options.delimiter ?? ",",
      relax: options.relaxColumnCount ?? false,
      emit: checked.emit,
      columns: columns === undefined ? undefined : [...columns],
    };
  }

  /** One partition: the path. */
  listParts(): string[] {
    return [this.path];
  }

  /**
   * Opens the file, reads the header (from the start of the file, also on a resume) and
   * seeks to the resume position. Refuses a position beyond the file's end.
   */
  async buildPart(
    stepId: string,
    _forPart: string,
    resumeState: FilePosition | undefined,
    _ctx?: PartitionContext,
  ): Promise<
    StatefulSourcePartition<B extends "emit" ? CSVRow | DeadLetter<string> : CSVRow, FilePosition>
  > {
    const where = JSON.stringify(this.path);
    checkPosition(this.path, resumeState);
    const file = await openForReading(this.path);
    try {
      let reader = new RecordReader(file, 0, 1, this.#chunkSize, true);
      await reader.skipBom();
      let columns = this.#options.columns;
      if (columns === undefined) {
        const head = await reader.next(1);
        let names: string[] = [];
        try {
          names = head === null ? [] : parseOne(head.text, this.#options.delimiter);
        } catch (err) {
          throw new Error(
            `Cannot parse the CSV header of ${where} (line 1): ${
              withoutLibraryLine(err).message
            }; fix the file, or give the column names in options.columns`,
            { cause: err },
          );
        }
        if (names.length === 0) {
          throw new Error(`Cannot read the CSV header of ${where}: the file is empty`);
        }
        columns = names;
      }
      if (resumeState !== undefined && resumeState.offset > reader.offset) {
        const { size } = await file.stat();
        if (resumeState.offset > size) {
          throw new RangeError(
            `Cannot resume reading ${where} at byte ${resumeState.offset}: the file has only ` +
              `${size} bytes now (it was truncated or replaced since the snapshot)`,
          );
        }
        await file.seek(resumeState.offset, Deno.SeekMode.Start);
        reader = new RecordReader(
          file,
          resumeState.offset,
          resumeState.line,
          this.#chunkSize,
          true,
        );
      }
      const { size } = await file.stat();
      return new CSVPartition(
        stepId,
        this.path,
        file,
        reader,
        { ...this.#options, columns },
        this.#batchSize,
        size,
      ) as StatefulSourcePartition<never, FilePosition>;
    } catch (err) {
      file.close();
      throw err;
    }
  }
}

interface ParseOptions {
  readonly delimiter: string;
  readonly relax: boolean;
  readonly emit: boolean;
  readonly columns: string[] | undefined;
}

class CSVPartition implements StatefulSourcePartition<CSVRow | DeadLetter<string>, FilePosition> {
  #closed = false;
  readonly #parseOptions: Record<string, unknown>;

  constructor(
    private readonly stepId: string,
    private readonly path: string,
    private readonly file: Deno.FsFile,
    private readonly reader: RecordReader,
    private readonly options: ParseOptions,
    private readonly batchSize: number,
    private readonly size: number,
  ) {
    this.#parseOptions = {
      columns: options.columns,
      delimiter: options.delimiter,
      relax_column_count: options.relax,
      skip_empty_lines: true,
    };
  }

  async nextBatch(): Promise<(CSVRow | DeadLetter<string>)[] | typeof EOF> {
    const batch = await this.reader.next(this.batchSize);
    if (batch === null) return EOF;
    try {
      // The fast path: the whole batch in one call of the library.
      return parse(batch.text, this.#parseOptions) as unknown as CSVRow[];
    } catch {
      // Some record is bad: parse record by record to find it (and keep the good ones).
      return this.#oneByOne(batch.text, batch.line);
    }
  }

  #oneByOne(text: string, firstLine: number): (CSVRow | DeadLetter<string>)[] {
    const out: (CSVRow | DeadLetter<string>)[] = [];
    let line = firstLine;
    for (const record of splitRecords(text)) {
      try {
        out.push(...(parse(record, this.#parseOptions) as unknown as CSVRow[]));
      } catch (err) {
        const reason = withoutLibraryLine(err);
        if (!this.options.emit) {
          throw new Error(
            `Cannot parse the CSV record at ${JSON.stringify(this.path)} line ${line}: ` +
              `${reason.message}; fix the file, or pass badRecords: "emit" to route bad ` +
              `records to a dead-letter stream`,
            { cause: err },
          );
        }
        out.push(new DeadLetter(this.stepId, record, reason, { path: this.path, line }));
      }
      line += countNewlines(record);
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

/** Splits whole CSV records (each with its line end) by the same rule as the reader. */
function splitRecords(text: string): string[] {
  const out: string[] = [];
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) inQuotes = !inQuotes;
    else if (c === 0x0a && !inQuotes) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * The library's error with its message's own position removed (it counts lines from the
 * record, not the file); the error keeps its name and code, and the original is the cause.
 */
function withoutLibraryLine(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const message = err.message.replace(/:? (at|on) line \d+$/, "")
    .replace(/ at line \d+,? ?/, " ");
  const out = new Error(message, { cause: err });
  out.name = (err as { code?: string }).code ?? err.name;
  return out;
}

function parseOne(text: string, delimiter: string): string[] {
  const rows = parse(text, { delimiter, skip_empty_lines: true }) as string[][];
  return rows[0] ?? [];
}

/** Options of {@linkcode CSVSink}. */
export interface CSVSinkOptions {
  /**
   * The columns: object values are written as these fields, in this order (needed for
   * objects; arrays are written as they are).
   */
  readonly columns?: readonly string[];
  /**
   * Write `columns` as a header line at the start of the file (default: true when `columns`
   * is given). A resumed run that continues a file does not write it again.
   */
  readonly header?: boolean;
  /** The field delimiter (default `","`). */
  readonly delimiter?: string;
  /** Written after each record (default `"\n"`; RFC 4180 says `"\r\n"`). */
  readonly recordDelimiter?: string;
}

/**
 * Writes each value as one CSV record to one file, exactly once: the file handling of
 * `FileSink` (one partition named after the path; one write and one `syncData` per batch; a
 * byte-offset snapshot; truncation to it on resume) with `csv-stringify` doing the quoting
 * (fields holding the delimiter, a quote or a line break are quoted, quotes doubled).
 *
 * Consumes `[key, value]` pairs and writes the value: an array of fields, or an object
 * written as `options.columns`. `null` and `undefined` become empty fields, booleans `true`
 * and `false`, dates ISO 8601 text.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { CSVSink } from "@weir/weir/connectors/csv";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const rows: [string, { name: string; note: string | null }][] = [
 *   ["k", { name: "Ada", note: 'says "hi", twice' }],
 *   ["k", { name: "Bob", note: null }],
 * ];
 * const flow = new Dataflow("write_csv");
 * flow.input("inp", new TestingSource(rows))
 *   .output("out", new CSVSink(`${dir}/out.csv`, { columns: ["name", "note"] }));
 * await runMain(flow);
 * assertEquals(
 *   await Deno.readTextFile(`${dir}/out.csv`),
 *   'name,note\nAda,"says ""hi"", twice"\nBob,\n',
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class CSVSink implements FixedPartitionedSink<unknown, number> {
  readonly #stringifyOptions: Record<string, unknown>;
  readonly #header: string;
  readonly #columns: string[] | undefined;

  /**
   * A CSV sink writing to `path`.
   *
   * @param path The file to write; its directory must exist.
   * @param options Columns, header, delimiters.
   * @throws {TypeError} When `path` is not a non-empty string or `columns` not strings.
   */
  constructor(readonly path: string, options: CSVSinkOptions = {}) {
    checkSinkPath("CSVSink", path);
    const columns = options.columns;
    if (
      columns !== undefined &&
      (!Array.isArray(columns) || columns.some((c) => typeof c !== "string"))
    ) {
      throw new TypeError("columns must be an array of strings");
    }
    this.#columns = columns === undefined ? undefined : [...columns];
    const base = {
      delimiter: options.delimiter ?? ",",
      record_delimiter: options.recordDelimiter ?? "\n",
      // csv-stringify quotes a field holding the record delimiter, not one holding a lone
      // "\n" when records end in "\r\n"; every line break must be quoted to be read back.
      quoted_match: /[\r\n]/,
      cast: {
        boolean: (b: boolean) => String(b),
        date: (d: Date) => d.toISOString(),
      },
    };
    this.#stringifyOptions = { ...base, columns: this.#columns, header: false };
    this.#header = this.#columns !== undefined && (options.header ?? true)
      ? stringify([this.#columns], base)
      : "";
  }

  /** One partition: the path. */
  listParts(): string[] {
    return [this.path];
  }

  /**
   * Opens the file: truncated to 0 bytes on a fresh start (the header is written with the
   * first batch), truncated to `resumeState` on a resume.
   */
  async buildPart(
    _stepId: string,
    forPart: string,
    resumeState: number | undefined,
    _ctx?: PartitionContext,
  ): Promise<StatefulSinkPartition<unknown, number>> {
    const where = JSON.stringify(this.path);
    const columns = this.#columns;
    const options = this.#stringifyOptions;
    return await buildSingleFilePart<unknown>(
      "CSVSink",
      this.path,
      forPart,
      resumeState,
      (values) => {
        if (columns === undefined) {
          for (const v of values) {
            if (!Array.isArray(v)) {
              throw new TypeError(
                `CSVSink of ${where} writes arrays of fields, got ${typeof v}; pass ` +
                  `options.columns to write objects`,
              );
            }
          }
        }
        return stringify(values as unknown[][], options);
      },
      this.#header,
    );
  }
}
