/**
 * The segment format: one epoch's snapshot changes (a delta) or the merged state up to an
 * epoch (a base), as bytes a backend stores under one name.
 *
 * ```text
 * segment := header block* (the last block ends with an END op)
 * header  := "WEIRSEG\0" u32 formatVersion u32 segmentType(1 delta, 2 base)
 * block   := u32 payloadLength u32 crc32(payload) payload          (payload ≤ ~64 KiB)
 * payload := op*
 * op      := STEP u8 kind string stepId      -- later PUT/DEL ops belong to this step
 *          | PUT string key value            -- value: see codec.ts
 *          | DEL string key                  -- the key's state was discarded
 *          | DROP u8 kind string stepId      -- forget every key of the step (orphans)
 *          | END f64 epoch f64 prevEpoch f64 committedAt varint entryCount
 * ```
 *
 * Every block carries its own CRC-32, and the END op (with the entry count) is required, so
 * flipped bits and truncation are both detected. Integers are little-endian.
 *
 * @module
 */
import { ByteReader, ByteWriter, crc32 } from "./bytes.ts";
import { type ClassSerde, readValue, skipValue, writeValue } from "./codec.ts";

/** The segment format version this code writes and reads. */
export const FORMAT_VERSION = 1;

/** What a snapshot entry belongs to: a stateful step's key, a source or a sink partition. */
export type SnapshotKind = "state" | "source" | "sink";

const KINDS: readonly SnapshotKind[] = ["state", "source", "sink"];
const KIND_CODE: Record<SnapshotKind, number> = { state: 0, source: 1, sink: 2 };

const MAGIC = [0x57, 0x45, 0x49, 0x52, 0x53, 0x45, 0x47, 0x00]; // "WEIRSEG\0"
const HEADER_BYTES = 16;
const BLOCK_HEADER_BYTES = 8;
/** A block is closed once its payload reaches this size. */
const BLOCK_TARGET = 64 * 1024;

const OP_STEP = 1;
const OP_PUT = 2;
const OP_DEL = 3;
const OP_DROP = 4;
const OP_END = 5;

/** Segment types. */
export const DELTA = 1;
/** Segment types. */
export const BASE = 2;

/** A snapshot value could not be encoded: names the step and key. */
export class SnapshotEncodeError extends Error {
  /**
   * @param stepId The step.
   * @param key The state key or partition.
   * @param cause The codec's error.
   */
  constructor(readonly stepId: string, readonly key: string, cause: unknown) {
    super(`Cannot store the snapshot of "${key}": ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = "SnapshotEncodeError";
  }
}

/** Builds one segment. */
export class SegmentWriter {
  private readonly w = new ByteWriter(256 * 1024);
  private blockStart = HEADER_BYTES;
  private stepId = "";
  /** Entries (PUT and DEL ops) written so far. */
  entries = 0;

  /**
   * @param type {@linkcode DELTA} or {@linkcode BASE}.
   * @param classes Class serdes for values.
   */
  constructor(readonly type: number, private readonly classes: readonly ClassSerde[] = []) {
    const w = this.w;
    for (const b of MAGIC) w.u8(b);
    w.u32(FORMAT_VERSION);
    w.u32(type);
    this.openBlock();
  }

  private openBlock(): void {
    this.blockStart = this.w.pos;
    this.w.u32(0);
    this.w.u32(0);
  }

  private closeBlock(): void {
    const w = this.w;
    const start = this.blockStart + BLOCK_HEADER_BYTES;
    w.u32At(this.blockStart, w.pos - start);
    w.u32At(this.blockStart + 4, crc32(w.buf, start, w.pos));
  }

  private maybeRoll(): void {
    if (this.w.pos - this.blockStart >= BLOCK_TARGET) {
      this.closeBlock();
      this.openBlock();
      // A new block restates the step, so each block reads on its own.
      this.w.u8(OP_STEP);
      this.w.u8(this.kindCode);
      this.w.string(this.stepId);
    }
  }

  private kindCode = 0;

  /** Starts the entries of one step (or source/sink). */
  step(kind: SnapshotKind, stepId: string): void {
    this.kindCode = KIND_CODE[kind];
    this.stepId = stepId;
    this.w.u8(OP_STEP);
    this.w.u8(this.kindCode);
    this.w.string(stepId);
  }

  /** A key's snapshot. Throws {@linkcode SnapshotEncodeError} for a value it cannot store. */
  put(key: string, value: unknown): void {
    const w = this.w;
    const at = w.pos;
    w.u8(OP_PUT);
    w.string(key);
    try {
      writeValue(w, value, this.classes);
    } catch (err) {
      w.pos = at;
      throw new SnapshotEncodeError(this.stepId, key, err);
    }
    this.entries++;
    this.maybeRoll();
  }

  /**
   * A key's snapshot copied from another segment: `bytes[keyStart, end)` holds the key as
   * `ByteWriter.string` wrote it, followed by the encoded value.
   */
  putEncoded(bytes: Uint8Array, keyStart: number, end: number): void {
    this.w.u8(OP_PUT);
    this.w.bytes(bytes.subarray(keyStart, end));
    this.entries++;
    this.maybeRoll();
  }

  /** A key whose state was discarded. */
  del(key: string): void {
    this.w.u8(OP_DEL);
    this.w.string(key);
    this.entries++;
    this.maybeRoll();
  }

  /** Forgets every key of a step (used to drop orphaned state). */
  drop(kind: SnapshotKind, stepId: string): void {
    this.w.u8(OP_DROP);
    this.w.u8(KIND_CODE[kind]);
    this.w.string(stepId);
  }

  /** Ends the segment and returns its bytes. */
  finish(epoch: number, prevEpoch: number, committedAt: number): Uint8Array {
    const w = this.w;
    w.u8(OP_END);
    w.f64(epoch);
    w.f64(prevEpoch);
    w.f64(committedAt);
    w.varint(this.entries);
    this.closeBlock();
    return w.buf.subarray(0, w.pos);
  }
}

/** What a segment's END op records. */
export interface SegmentTrailer {
  /** {@linkcode DELTA} or {@linkcode BASE}. */
  readonly type: number;
  /** The epoch the segment completes. */
  readonly epoch: number;
  /** The epoch of the segment committed just before (0 for the first). */
  readonly prevEpoch: number;
  /** The run clock's time at commit (epoch ms). */
  readonly committedAt: number;
  /** PUT and DEL entries. */
  readonly entries: number;
}

/** Receives the ops of a segment as it is read. */
export interface SegmentVisitor {
  /**
   * The entries that follow belong to `kind`/`stepId` (called at each change of step). With a
   * raw visitor also given to {@linkcode readSegment}, returning true hands the step's entries
   * to it undecoded instead (lazy resume).
   */
  step(kind: SnapshotKind, stepId: string): void | boolean;
  /** A key's snapshot (`value` decoded, `size` its encoded bytes). */
  put(key: string, value: unknown, size: number): void;
  /** A discarded key. */
  del(key: string): void;
  /** Every key of the step is forgotten. */
  drop(kind: SnapshotKind, stepId: string): void;
}

/**
 * Receives the ops of a segment as byte offsets into it, without decoding (see `fold.ts`).
 * A key's bytes (`keyStart` to `valueStart`, or `end` for a DEL) are its varint length and
 * UTF-8 bytes (WTF-8 for a string with lone surrogates), as `ByteWriter.string` wrote them, one
 * encoding per string; a value's are its encoding.
 */
export interface RawSegmentVisitor {
  /** The entries that follow belong to `kind`/`stepId`. */
  step(kind: SnapshotKind, stepId: string): void;
  /** A key's snapshot. */
  put(keyStart: number, valueStart: number, end: number): void;
  /** A discarded key. */
  del(keyStart: number, end: number): void;
  /** Every key of the step is forgotten. */
  drop(kind: SnapshotKind, stepId: string): void;
}

/**
 * A segment that fails its checks; `offset` is the byte where reading stopped. A run meets it
 * as the `cause` of a `RecoveryError`.
 *
 * @example
 * ```ts
 * import { CorruptSegmentError, Dataflow, RecoveryError, run } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertInstanceOf, assertRejects } from "@std/assert";
 *
 * const dir = await Deno.makeTempDir();
 * const flow = new Dataflow("demo");
 * flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
 * await run(flow, { recovery: { backend: fsBackend(dir), create: true } });
 * for (const e of Deno.readDirSync(`${dir}/segments`)) {
 *   Deno.truncateSync(`${dir}/segments/${e.name}`, 20); // damage every segment
 * }
 * const err = await assertRejects(
 *   () => run(flow, { recovery: { backend: fsBackend(dir) } }),
 *   RecoveryError,
 * );
 * assertInstanceOf(err.cause, CorruptSegmentError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class CorruptSegmentError extends Error {
  /**
   * The message names the segment, the byte offset and the problem.
   *
   * @param segment The segment's name.
   * @param offset The byte offset of the problem.
   * @param problem What is wrong.
   */
  constructor(readonly segment: string, readonly offset: number, problem: string) {
    super(`Snapshot segment ${segment} is corrupt at byte ${offset}: ${problem}`);
    this.name = "CorruptSegmentError";
  }
}

/**
 * Reads a segment, checking its header, every block's checksum and the END record, and
 * hands each op to `visitor`. Returns what the END record says. `lenient` reads instances
 * of unregistered classes as `{ $class, plain }` (inspection). With `rawVisitor`, keys and
 * values are handed over as byte offsets into `bytes`, undecoded: all of them without
 * `visitor` (folding segments), those of the steps whose `visitor.step` returned true with it
 * (lazy resume). Drops and changes of step go to both.
 */
export function readSegment(
  name: string,
  bytes: Uint8Array,
  visitor: SegmentVisitor | undefined,
  classes: readonly ClassSerde[] = [],
  lenient = false,
  rawVisitor?: RawSegmentVisitor,
): SegmentTrailer {
  if (bytes.length < HEADER_BYTES) {
    throw new CorruptSegmentError(name, bytes.length, "shorter than its header (truncated)");
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new CorruptSegmentError(name, i, "not a weir segment");
  }
  const head = new ByteReader(bytes, 8);
  const version = head.u32();
  if (version !== FORMAT_VERSION) {
    throw new CorruptSegmentError(
      name,
      8,
      `written in format version ${version}; this version of weir reads version ${FORMAT_VERSION}`,
    );
  }
  const type = head.u32();
  if (type !== DELTA && type !== BASE) {
    throw new CorruptSegmentError(name, 12, `unknown segment type ${type}`);
  }
  let pos = HEADER_BYTES;
  let kind: SnapshotKind = "state";
  let stepId = "";
  let entries = 0;
  /** Entries of the current step go to `rawVisitor`, undecoded. */
  const allRaw = visitor === undefined && rawVisitor !== undefined;
  let raw = allRaw;
  /** True while a visitor callback runs (its errors pass through unchanged). */
  let visiting = false;
  while (pos < bytes.length) {
    if (pos + BLOCK_HEADER_BYTES > bytes.length) {
      throw new CorruptSegmentError(name, pos, "truncated block header");
    }
    const hr = new ByteReader(bytes, pos);
    const len = hr.u32();
    const sum = hr.u32();
    const start = pos + BLOCK_HEADER_BYTES;
    const end = start + len;
    if (end > bytes.length) throw new CorruptSegmentError(name, pos, "truncated block");
    if (crc32(bytes, start, end) !== sum) {
      throw new CorruptSegmentError(name, pos, "checksum mismatch");
    }
    const r = new ByteReader(bytes, start, end);
    try {
      while (r.pos < end) {
        const op = r.u8();
        if (op === OP_PUT) {
          if (raw) {
            const keyStart = r.pos;
            r.skip(r.varint());
            const at = r.pos;
            skipValue(r);
            entries++;
            visiting = true;
            rawVisitor!.put(keyStart, at, r.pos);
            visiting = false;
            continue;
          }
          const key = r.string();
          const at = r.pos;
          const value = readValue(r, classes, lenient);
          entries++;
          visiting = true;
          visitor?.put(key, value, r.pos - at);
          visiting = false;
        } else if (op === OP_DEL) {
          if (raw) {
            const keyStart = r.pos;
            r.skip(r.varint());
            entries++;
            visiting = true;
            rawVisitor!.del(keyStart, r.pos);
            visiting = false;
            continue;
          }
          const key = r.string();
          entries++;
          visiting = true;
          visitor?.del(key);
          visiting = false;
        } else if (op === OP_STEP) {
          const k = kindOf(r.u8());
          const id = r.string();
          if (k !== kind || id !== stepId) {
            kind = k;
            stepId = id;
            visiting = true;
            const wantsRaw = visitor?.step(kind, stepId) === true;
            rawVisitor?.step(kind, stepId);
            visiting = false;
            raw = allRaw || (wantsRaw && rawVisitor !== undefined);
          }
        } else if (op === OP_DROP) {
          const k = kindOf(r.u8());
          const s = r.string();
          visiting = true;
          visitor?.drop(k, s);
          rawVisitor?.drop(k, s);
          visiting = false;
          stepId = "";
          raw = allRaw;
        } else if (op === OP_END) {
          const epoch = r.f64();
          const prevEpoch = r.f64();
          const committedAt = r.f64();
          const count = r.varint();
          if (r.pos !== end || end !== bytes.length) {
            throw new RangeError("data after the END record");
          }
          if (count !== entries) {
            throw new RangeError(
              `END record counts ${count} entries, the segment holds ${entries}`,
            );
          }
          return { type, epoch, prevEpoch, committedAt, entries };
        } else {
          throw new RangeError(`unknown op ${op}`);
        }
      }
    } catch (err) {
      // A visitor's own failure (a step's builder refusing a snapshot) is not corruption.
      if (err instanceof CorruptSegmentError || visiting) throw err;
      throw new CorruptSegmentError(name, r.pos, (err as Error).message ?? String(err));
    }
    pos = end;
  }
  throw new CorruptSegmentError(name, bytes.length, "no END record (truncated)");
}

function kindOf(code: number): SnapshotKind {
  const k = KINDS[code];
  if (k === undefined) throw new RangeError(`unknown entry kind ${code}`);
  return k;
}
