/**
 * The byte-level reader under CSVSource and JSONLinesSource: reads a file in chunks and
 * hands out batches of whole records as text, keeping the byte offset and the line number
 * of the next record. Private.
 *
 * A record ends at a `\n`; in CSV mode only at a `\n` outside double quotes (RFC 4180: a
 * quote opens or closes a quoted field, and `""` inside one toggles twice, so counting quotes
 * is enough). A record cut by the end of a chunk waits for the next chunk; the bytes of an
 * unfinished batch are kept, so a batch is always whole records and the offset always sits on
 * a record boundary. A last record without a newline is a record too.
 *
 * @module
 */

const NL = 0x0a;
const QUOTE = 0x22;

/** A batch of whole records. */
export interface RecordBatch {
  /** The records' text, each with its line end (a last record may have none). */
  readonly text: string;
  /** How many records. */
  readonly count: number;
  /** The 1-based line where the first record starts. */
  readonly line: number;
}

/** Reads whole records from an open file; see the module doc. */
export class RecordReader {
  #buf: Uint8Array = new Uint8Array(0);
  /** Start of the next record in `#buf`. */
  #pos = 0;
  #eof = false;
  readonly #decoder = new TextDecoder();

  /**
   * @param file The file, positioned at `offset`.
   * @param offset The byte offset of the next record.
   * @param line The line number of the next record.
   * @param chunkSize Bytes per read.
   * @param quotes CSV mode: newlines inside double quotes do not end a record.
   */
  constructor(
    private readonly file: Deno.FsFile,
    public offset: number,
    public line: number,
    private readonly chunkSize: number,
    private readonly quotes: boolean,
  ) {}

  /** Skips a UTF-8 byte order mark at the start of the file. */
  async skipBom(): Promise<void> {
    if (this.offset !== 0) return;
    while (this.#buf.length - this.#pos < 3 && !this.#eof) await this.#fill(this.#pos);
    const b = this.#buf;
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
      this.#pos = 3;
      this.offset = 3;
    }
  }

  /** Up to `max` whole records, or `null` at the end of the file. */
  async next(max: number): Promise<RecordBatch | null> {
    let start = this.#pos;
    let scan = start;
    let count = 0;
    let newlines = 0;
    let inQuotes = false;
    let end = start; // end of the last whole record
    const quotes = this.quotes;
    while (count < max) {
      const buf = this.#buf;
      const len = buf.length;
      if (quotes) {
        let i = scan;
        for (; i < len; i++) {
          const c = buf[i];
          if (c === QUOTE) inQuotes = !inQuotes;
          else if (c === NL) {
            newlines++;
            if (!inQuotes) {
              end = i + 1;
              if (++count === max) {
                i++;
                break;
              }
            }
          }
        }
        scan = i;
      } else {
        while (count < max) {
          const nl = buf.indexOf(NL, scan);
          if (nl < 0) {
            scan = len;
            break;
          }
          newlines++;
          count++;
          scan = end = nl + 1;
        }
      }
      if (count === max) break;
      if (this.#eof) {
        if (end < len) {
          // A last record without a newline (or an unclosed quote running to the end).
          end = len;
          count++;
        }
        break;
      }
      // Keep the batch's bytes: move them to the front of a bigger buffer and read on.
      await this.#fill(start);
      scan -= start;
      end -= start;
      start = 0;
    }
    this.#pos = end;
    if (count === 0) return null;
    const text = this.#decoder.decode(this.#buf.subarray(start, end));
    const line = this.line;
    this.offset += end - start;
    // A last record without a newline leaves the line count as it is; nothing follows it.
    this.line += newlines;
    return { text, count, line };
  }

  /** Reads one more chunk after the bytes from `from` on, which move to the front. */
  async #fill(from: number): Promise<void> {
    const rest = this.#buf.subarray(from);
    const next = await readChunkAfter(this.file, rest, this.chunkSize);
    if (next === null) this.#eof = true;
    this.#buf = next ?? rest;
    this.#pos -= from;
  }
}

/**
 * Reads up to `chunkSize` more bytes of `file` into a new buffer after a copy of `rest`: the
 * buffer (`rest` then the bytes read), or null at the end of the file (`rest` is then all there is).
 * The line and record readers of the file sources fill their buffers with it.
 */
export async function readChunkAfter(
  file: Deno.FsFile,
  rest: Uint8Array,
  chunkSize: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const next = new Uint8Array(rest.length + chunkSize);
  next.set(rest);
  const n = await file.read(next.subarray(rest.length));
  return n === null ? null : next.subarray(0, rest.length + n);
}

/**
 * Where a file source stands: the byte offset of the next record (always a record boundary)
 * and its 1-based line number (for error messages after a resume).
 *
 * @example
 * ```ts
 * import type { FilePosition } from "@weir/weir/connectors/csv";
 * import { assertEquals } from "@std/assert";
 *
 * const start: FilePosition = { offset: 0, line: 1 };
 * assertEquals(start.offset, 0);
 * ```
 */
export interface FilePosition {
  /** The byte offset of the next record. */
  readonly offset: number;
  /** The 1-based line where the next record starts. */
  readonly line: number;
}

export async function openForReading(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot open ${JSON.stringify(path)} for reading: ${reason}`, {
      cause: err,
    });
  }
}

/** Refuses a resume state that is not a {@linkcode FilePosition}. */
export function checkPosition(path: string, state: unknown): void {
  if (state === undefined) return;
  const p = state as FilePosition;
  if (
    state === null || typeof state !== "object" || !Number.isSafeInteger(p.offset) ||
    p.offset < 0 || !Number.isSafeInteger(p.line) || p.line < 1
  ) {
    throw new TypeError(
      `Cannot resume reading ${JSON.stringify(path)} at ${JSON.stringify(state)}: the ` +
        `snapshot must be { offset, line } with a byte offset >= 0 and a line >= 1`,
    );
  }
}

/** Validates batch and chunk sizes. */
/**
 * Checks what every record-file source takes — a non-empty path, the batch and chunk sizes, the
 * bad-record policy — and returns the sizes and whether bad records are emitted.
 */
export function checkRecordSource(
  source: string,
  path: unknown,
  options: { batchSize?: number; chunkSize?: number; badRecords?: unknown },
): { batchSize: number; chunkSize: number; emit: boolean } {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${source} needs a non-empty path, got ${JSON.stringify(path)}`);
  }
  const [batchSize, chunkSize] = checkSizes(options.batchSize, options.chunkSize);
  const bad = options.badRecords ?? "fail";
  if (bad !== "fail" && bad !== "emit") {
    throw new RangeError(`badRecords must be "fail" or "emit", got ${JSON.stringify(bad)}`);
  }
  return { batchSize, chunkSize, emit: bad === "emit" };
}

export function checkSizes(batchSize = 1000, chunkSize = 65536): [number, number] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  return [batchSize, chunkSize];
}
