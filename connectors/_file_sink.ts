/**
 * The exactly-once file sink partition shared by FileSink, DirSink, CSVSink and
 * JSONLinesSink: truncation to the snapshot offset on resume, one write and one `syncData`
 * per batch; and the one construction path of the single-file sinks (FileSink, CSVSink,
 * JSONLinesSink): {@linkcode checkSinkPath} and {@linkcode buildSingleFilePart}. Private: not
 * exported from any public module.
 *
 * @module
 */
import type { StatefulSinkPartition } from "../mod.ts";
import { writeAll } from "./stdio.ts";

/**
 * Checks the path a single-file sink (`FileSink`, `CSVSink`) is constructed with.
 *
 * @param sink The sink's class, for the message.
 * @throws {TypeError} When `path` is not a non-empty string.
 */
export function checkSinkPath(sink: string, path: unknown): asserts path is string {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${sink} needs a non-empty path, got ${JSON.stringify(path)}`);
  }
}

/**
 * The `buildPart` of a single-file sink, whose one partition is its path: checks `forPart`,
 * then opens the file with {@linkcode openSinkFile}.
 *
 * @param sink The sink's class, for the message.
 * @throws {RangeError} When `forPart` is not `path`.
 */
export async function buildSingleFilePart<V>(
  sink: string,
  path: string,
  forPart: string,
  resumeState: number | undefined,
  format: (values: V[]) => string,
  header = "",
): Promise<FileSinkPartition<V>> {
  if (forPart !== path) {
    throw new RangeError(
      `${sink} of ${JSON.stringify(path)} has no partition ${JSON.stringify(forPart)}`,
    );
  }
  return await openSinkFile(path, resumeState, format, header);
}

/**
 * Opens `path` for a sink partition: truncated to 0 (fresh) or to the resume offset, which
 * must be a non-negative integer no greater than the file's size.
 */
export async function openSinkFile<V>(
  path: string,
  resumeState: number | undefined,
  format: (values: V[]) => string,
  header = "",
): Promise<FileSinkPartition<V>> {
  const where = JSON.stringify(path);
  if (resumeState === undefined) {
    const file = await openForWriting(path, { write: true, create: true, truncate: true });
    return new FileSinkPartition(path, file, 0, format, header);
  }
  const offset: unknown = resumeState;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw new (typeof offset === "number" ? RangeError : TypeError)(
      `Cannot resume writing ${where}: the resume state must be a byte offset (a non-negative ` +
        `integer), got ${describeState(offset)}`,
    );
  }
  // Offset 0 needs no earlier content, so a missing file is simply created.
  const file = await openForWriting(path, { write: true, create: offset === 0 });
  try {
    let size;
    try {
      size = (await file.stat()).size;
    } catch (err) {
      throw ioError(`Cannot stat ${where}`, err);
    }
    if (offset > size) {
      throw new RangeError(
        `Cannot resume writing ${where} at byte offset ${offset}: the file has only ${size} ` +
          `bytes, so it was replaced or truncated since the snapshot`,
      );
    }
    try {
      await file.truncate(offset);
      await file.seek(offset, Deno.SeekMode.Start);
    } catch (err) {
      throw ioError(`Cannot truncate ${where} to byte offset ${offset}`, err);
    }
  } catch (err) {
    file.close();
    throw err;
  }
  return new FileSinkPartition(path, file, offset, format, header);
}

async function openForWriting(path: string, options: Deno.OpenOptions): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, options);
  } catch (err) {
    const where = JSON.stringify(path);
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        options.create
          ? `Cannot create ${where}: its directory ${
            JSON.stringify(parentDir(path))
          } does not exist`
          : `Cannot resume writing ${where}: the file does not exist`,
        { cause: err },
      );
    }
    throw ioError(`Cannot open ${where} for writing`, err);
  }
}

/** An Error for a failed I/O call: `what`, then the original message; the original as cause. */
export function ioError(what: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${what}: ${reason}`, { cause });
}

function parentDir(path: string): string {
  const sep = Deno.build.os === "windows" ? /[\\/][^\\/]*$/ : /\/[^/]*$/;
  const m = sep.exec(path);
  if (m === null) return ".";
  return m.index === 0 ? path[0]! : path.slice(0, m.index);
}

function describeState(state: unknown): string {
  if (typeof state === "number") return String(state);
  if (typeof state === "bigint") return `${state}n`;
  try {
    return JSON.stringify(state) ?? String(state);
  } catch {
    return String(state);
  }
}

const encoder = new TextEncoder();

/** One open file of a FileSink or DirSink: appends batches at `offset`. */
export class FileSinkPartition<V> implements StatefulSinkPartition<V, number> {
  #closed = false;
  /** Set when a write or sync failed: the file may hold part of a batch after `offset`. */
  #failed = false;

  constructor(
    private readonly path: string,
    private readonly file: Deno.FsFile,
    private offset: number,
    private readonly format: (values: V[]) => string,
    private readonly header: string,
  ) {}

  async writeBatch(values: V[]): Promise<void> {
    const where = JSON.stringify(this.path);
    if (this.#closed) throw new Error(`Cannot write to ${where}: the partition is closed`);
    if (this.#failed) {
      throw new Error(
        `Cannot write to ${where}: an earlier write failed, so the file may end with part of ` +
          `a batch; build the partition again from its last snapshot`,
      );
    }
    if (values.length === 0) return;
    let text = this.format(values);
    // A file that starts here (a fresh one, or one resumed at 0) gets the header first.
    if (this.offset === 0) text = this.header + text;
    const bytes = encoder.encode(text);
    if (bytes.length === 0) return;
    try {
      await writeAll(this.file, bytes);
      await this.file.syncData();
    } catch (err) {
      this.#failed = true;
      throw ioError(`Cannot write to ${where}`, err);
    }
    this.offset += bytes.length;
  }

  snapshot(): number {
    return this.offset;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.file.close();
    } catch (err) {
      throw ioError(`Cannot close ${JSON.stringify(this.path)}`, err);
    }
  }
}
