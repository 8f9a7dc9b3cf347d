/**
 * The binary codec of recovery snapshots: structured-clone values to bytes and back, with no
 * platform API (it runs in Deno and in browsers alike), plus CRC-32 for checksums.
 *
 * Supported: `undefined`, `null`, booleans, numbers (including `-0`, `NaN`, ±∞), strings
 * (every UTF-16 string exactly, lone surrogates included: see `ByteWriter.string`),
 * BigInt, arrays (holes read back as `undefined`), plain objects (own enumerable string keys),
 * `Date`, `RegExp`, `Map`, `Set`, `ArrayBuffer`, every typed array and `DataView`, boxed
 * primitives are refused. Instances of other classes need a {@linkcode ClassSerde} entry;
 * functions, symbols and cyclic values are refused with an error that says what and where.
 * Shared references are written once per occurrence (a value read back has no aliasing).
 *
 * @module
 */

/**
 * How to store instances of one class: `toPlain` turns an instance into a value this codec
 * supports, `fromPlain` rebuilds the instance. The `name` is what the snapshot stores, so it
 * must stay the same across versions of the program.
 *
 * @example
 * ```ts
 * import { type ClassSerde, decodeValue, encodeValue } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * class Point {
 *   constructor(readonly x: number, readonly y: number) {}
 * }
 * const point: ClassSerde<Point, [number, number]> = {
 *   name: "Point",
 *   type: Point,
 *   toPlain: (p) => [p.x, p.y],
 *   fromPlain: ([x, y]) => new Point(x, y),
 * };
 * const back = decodeValue(encodeValue(new Point(1, 2), [point]), [point]);
 * assertEquals(back, new Point(1, 2));
 * ```
 */
export interface ClassSerde<T = unknown, P = unknown> {
  /** The name stored in snapshots (stable across program versions). */
  readonly name: string;
  /** The class (its instances are matched by their exact constructor). */
  // deno-lint-ignore no-explicit-any
  readonly type: abstract new (...args: any[]) => T;
  /** Turns an instance into a value the codec supports. */
  toPlain(value: T): P;
  /** Rebuilds an instance from what `toPlain` returned. */
  fromPlain(plain: P): T;
}

/**
 * A value the codec cannot store; `path` says where in the value it is.
 *
 * @example
 * ```ts
 * import { CodecError, encodeValue } from "@weir/weir";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const err = assertThrows(() => encodeValue({ totals: [1, () => 2] }), CodecError);
 * assertEquals(err.path, "$.totals[1]");
 * ```
 */
export class CodecError extends Error {
  /**
   * The message reads `<message> at <path>`.
   *
   * @param message What is wrong.
   * @param path Where in the value (e.g. `$.items[3].at`; for a cycle, the back reference
   * and the ancestor it leads to, e.g. `$.a.b → $`).
   */
  constructor(message: string, readonly path: string) {
    super(`${message} at ${path}`);
    this.name = "CodecError";
  }
}

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT = 4; // zigzag varint, |n| < 2^31
const T_FLOAT = 5;
const T_STRING = 6;
const T_BIGINT = 7;
const T_ARRAY = 8;
const T_OBJECT = 9;
const T_DATE = 10;
const T_MAP = 11;
const T_SET = 12;
const T_ARRAYBUFFER = 13;
const T_TYPED = 14;
const T_REGEXP = 15;
const T_CLASS = 16;
const T_EMPTY_STRING = 17;

const TYPED_KINDS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

/** Values nest at most this deep. */
const MAX_DEPTH = 512;

/**
 * The containers on the path being encoded (`ancestors[d]` at depth `d`) and their paths:
 * one store each per container, read only when `MAX_DEPTH` is reached, to tell a cycle from
 * an honest deep value. Entries are cleared on the way back, so no value is kept alive.
 */
const ancestors: unknown[] = new Array(MAX_DEPTH + 1).fill(undefined);
const ancestorPaths: string[] = new Array(MAX_DEPTH + 1).fill("");

const textEncoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the string, not a byte order mark to drop.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** A growable byte buffer with the primitive writes the codec needs. */
export class ByteWriter {
  /** The bytes written so far are `buf.subarray(0, pos)`. */
  buf: Uint8Array;
  /** The write position. */
  pos = 0;
  private view: DataView;

  /** @param capacity Initial capacity in bytes. */
  constructor(capacity = 64 * 1024) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** One byte. */
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** A little-endian unsigned 32-bit integer. */
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** Writes a u32 at an earlier position (for length prefixes). */
  u32At(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** A little-endian float64. */
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** An unsigned varint (0 ≤ v < 2^53). */
  varint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  /**
   * A string with its byte length first: UTF-8 when it is well-formed UTF-16, otherwise
   * WTF-8 (a lone surrogate as the 3-byte sequence UTF-8 would give its code point), so every
   * string has exactly one encoding and reads back exactly. Valid UTF-8 never holds those
   * sequences, so strings written before WTF-8 was used read back unchanged.
   */
  string(s: string): void {
    const n = s.length;
    // Short ASCII strings (the usual keys and step ids) are copied by hand.
    if (n < 128) {
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.pos = start + 1 + n;
        return;
      }
    }
    this.ensure(5 + n * 3);
    // Reserve the worst-case length prefix (varint of n*3) and move the bytes if shorter.
    const max = n * 3;
    const prefix = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : 5;
    const at = this.pos;
    const written = s.isWellFormed()
      ? textEncoder.encodeInto(s, this.buf.subarray(at + prefix)).written
      : writeWtf8(s, this.buf, at + prefix) - (at + prefix);
    let lenBytes = 1;
    for (let v = written; v >= 0x80; v = Math.floor(v / 128)) lenBytes++;
    if (lenBytes !== prefix) {
      this.buf.copyWithin(at + lenBytes, at + prefix, at + prefix + written);
    }
    this.varint(written);
    this.pos = at + lenBytes + written;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/**
 * Writes `s` (which has lone surrogates) as WTF-8 at `buf[at]`, returning the end. A pair is
 * one 4-byte code point, a lone surrogate the 3-byte form of its code unit. `buf` has room
 * for 3 bytes per code unit.
 */
function writeWtf8(s: string, buf: Uint8Array, at: number): number {
  const n = s.length;
  let p = at;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/**
 * Decodes `buf[start, end)` as WTF-8: UTF-8 in which a surrogate code unit may stand alone as
 * a 3-byte sequence. Refuses anything `writeWtf8` would not have written (overlong forms,
 * stray bytes, and a high surrogate followed by a low one, which must be one 4-byte pair).
 */
function readWtf8(buf: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let prevHigh = false;
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    let c: number;
    let high = false;
    if (b < 0x80) {
      c = b;
      i += 1;
    } else if (b >= 0xc2 && b < 0xe0 && i + 1 < end && isCont(buf[i + 1]!)) {
      c = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      i += 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < end && isCont(buf[i + 1]!) && isCont(buf[i + 2]!)) {
      c = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
      if (c < 0x800) throw invalidString(i);
      if (c >= 0xdc00 && c < 0xe000 && prevHigh) throw invalidString(i);
      high = c >= 0xd800 && c < 0xdc00;
      i += 3;
    } else if (
      b >= 0xf0 && b < 0xf5 && i + 3 < end && isCont(buf[i + 1]!) && isCont(buf[i + 2]!) &&
      isCont(buf[i + 3]!)
    ) {
      c = ((b & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) |
        (buf[i + 3]! & 0x3f);
      if (c < 0x10000 || c > 0x10ffff) throw invalidString(i);
      c -= 0x10000;
      units.push(0xd800 + (c >> 10));
      c = 0xdc00 + (c & 0x3ff);
      i += 4;
    } else {
      throw invalidString(i);
    }
    units.push(c);
    prevHigh = high;
  }
  let s = "";
  for (let k = 0; k < units.length; k += 4096) {
    s += String.fromCharCode.apply(null, units.slice(k, k + 4096));
  }
  return s;
}

function isCont(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

function invalidString(at: number): RangeError {
  return new RangeError(`Invalid string bytes in snapshot data (byte ${at})`);
}

/** Reads what a {@linkcode ByteWriter} wrote. */
export class ByteReader {
  /** The read position. */
  pos: number;
  private readonly view: DataView;

  /**
   * @param buf The bytes.
   * @param start Where to start reading.
   * @param end Where the readable bytes end.
   */
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError("Unexpected end of snapshot data");
  }

  /** One byte. */
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** A little-endian unsigned 32-bit integer. */
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A little-endian float64. */
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** An unsigned varint. */
  varint(): number {
    const buf = this.buf;
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError("Unexpected end of snapshot data");
      const b = buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 56) throw new RangeError("Malformed varint in snapshot data");
    }
  }

  /** A UTF-8 string written by `ByteWriter.string`. */
  string(): string {
    const n = this.varint();
    this.need(n);
    const buf = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n < 64) {
      let ascii = true;
      for (let i = start; i < start + n; i++) {
        if (buf[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        // One call over the bytes gives a flat string (no rope to flatten when hashed) and
        // beats TextDecoder for short ASCII.
        return String.fromCharCode.apply(
          null,
          buf.subarray(start, start + n) as unknown as number[],
        );
      }
    }
    const s = textDecoder.decode(buf.subarray(start, start + n));
    // U+FFFD is either in the string or stands for bytes that are not UTF-8 (a lone surrogate
    // in WTF-8, or damage): the strict decoder tells them apart. (An exception from a fatal
    // TextDecoder would cost ~10 µs per string.)
    return s.indexOf("\ufffd") < 0 ? s : readWtf8(buf, start, start + n);
  }

  /** Moves past `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** `n` raw bytes (a copy). */
  bytes(n: number): Uint8Array<ArrayBuffer> {
    this.need(n);
    const b = this.buf.slice(this.pos, this.pos + n) as Uint8Array<ArrayBuffer>;
    this.pos += n;
    return b;
  }
}

/** Encodes `value` into `w`. Throws {@linkcode CodecError} for values it cannot store. */
export function writeValue(
  w: ByteWriter,
  value: unknown,
  classes: readonly ClassSerde[] = [],
): void {
  try {
    encode(w, value, classes, 0, "$");
  } catch (err) {
    ancestors.fill(undefined); // the containers on the path where it failed
    throw err;
  }
}

function encode(
  w: ByteWriter,
  v: unknown,
  classes: readonly ClassSerde[],
  depth: number,
  path: string,
): void {
  switch (typeof v) {
    case "number":
      if ((v | 0) === v && !(v === 0 && 1 / v < 0)) {
        w.u8(T_INT);
        w.varint(v >= 0 ? v * 2 : -v * 2 - 1);
      } else {
        w.u8(T_FLOAT);
        w.f64(v);
      }
      return;
    case "string":
      if (v.length === 0) w.u8(T_EMPTY_STRING);
      else {
        w.u8(T_STRING);
        w.string(v);
      }
      return;
    case "boolean":
      w.u8(v ? T_TRUE : T_FALSE);
      return;
    case "undefined":
      w.u8(T_UNDEFINED);
      return;
    case "bigint":
      w.u8(T_BIGINT);
      w.string(v.toString(36));
      return;
    case "object":
      if (v === null) {
        w.u8(T_NULL);
        return;
      }
      ancestors[depth] = v;
      ancestorPaths[depth] = path;
      if (depth >= MAX_DEPTH) throw depthError(path);
      encodeObject(w, v, classes, depth + 1, path);
      ancestors[depth] = undefined;
      return;
    default:
      throw new CodecError(`Cannot store a ${typeof v} in a snapshot`, path);
  }
}

function encodeObject(
  w: ByteWriter,
  v: object,
  classes: readonly ClassSerde[],
  depth: number,
  path: string,
): void {
  if (Array.isArray(v)) {
    w.u8(T_ARRAY);
    const n = v.length;
    w.varint(n);
    for (let i = 0; i < n; i++) encode(w, v[i], classes, depth, path + "[" + i + "]");
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    w.u8(T_OBJECT);
    const keys = Object.keys(v);
    w.varint(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      w.string(k);
      encode(w, (v as Record<string, unknown>)[k], classes, depth, path + "." + k);
    }
    return;
  }
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i]!;
    if (proto === c.type.prototype) {
      w.u8(T_CLASS);
      w.string(c.name);
      let plain;
      try {
        plain = c.toPlain(v);
      } catch (err) {
        throw new CodecError(`toPlain of class serde "${c.name}" failed: ${err}`, path);
      }
      encode(w, plain, classes, depth, path + "<" + c.name + ">");
      return;
    }
  }
  if (v instanceof Map) {
    w.u8(T_MAP);
    w.varint(v.size);
    let i = 0;
    for (const [k, x] of v) {
      encode(w, k, classes, depth, path + ".<key " + i + ">");
      encode(w, x, classes, depth, path + ".get(" + describeKey(k) + ")");
      i++;
    }
    return;
  }
  if (v instanceof Set) {
    w.u8(T_SET);
    w.varint(v.size);
    let i = 0;
    for (const x of v) encode(w, x, classes, depth, path + ".<item " + i++ + ">");
    return;
  }
  if (v instanceof Date) {
    w.u8(T_DATE);
    w.f64(v.getTime());
    return;
  }
  if (v instanceof ArrayBuffer) {
    w.u8(T_ARRAYBUFFER);
    w.varint(v.byteLength);
    w.bytes(new Uint8Array(v));
    return;
  }
  if (ArrayBuffer.isView(v)) {
    const kind = TYPED_KINDS.findIndex((K) => v.constructor === K);
    if (kind < 0) throw new CodecError(`Cannot store a ${v.constructor.name}`, path);
    w.u8(T_TYPED);
    w.u8(kind);
    w.varint(v.byteLength);
    w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  if (v instanceof RegExp) {
    w.u8(T_REGEXP);
    w.string(v.source);
    w.string(v.flags);
    return;
  }
  const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
  throw new CodecError(
    `Cannot store an instance of ${name}: return plain data from snapshot(), or register ` +
      `the class with a ClassSerde (recovery option "classes")`,
    path,
  );
}

/**
 * The error for a value nesting `MAX_DEPTH` levels: the shortest cycle on the path (where an
 * object is reached again inside itself), or else the depth.
 */
function depthError(path: string): CodecError {
  let err: CodecError | undefined;
  for (let j = 1; j <= MAX_DEPTH && err === undefined; j++) {
    for (let i = 0; i < j; i++) {
      if (ancestors[i] === ancestors[j]) {
        err = new CodecError(
          "Cannot store a cyclic value (a snapshot holds trees; store an id in place of the " +
            "back reference)",
          `${ancestorPaths[j]} → ${ancestorPaths[i]}`,
        );
        break;
      }
    }
  }
  return err ?? new CodecError(
    `Value nests deeper than ${MAX_DEPTH} levels (a snapshot holds at most ${MAX_DEPTH}; ` +
      `flatten the state)`,
    path,
  );
}

function describeKey(k: unknown): string {
  return typeof k === "string" ? JSON.stringify(k) : typeof k === "number" ? String(k) : "…";
}

/**
 * Decodes one value written by {@linkcode writeValue}. With `lenient`, an instance of a class
 * that has no serde reads as `{ $class, plain }` instead of throwing (for inspection tools).
 */
export function readValue(
  r: ByteReader,
  classes: readonly ClassSerde[] = [],
  lenient = false,
): unknown {
  const tag = r.u8();
  switch (tag) {
    case T_INT: {
      const z = r.varint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case T_FLOAT:
      return r.f64();
    case T_STRING:
      return r.string();
    case T_EMPTY_STRING:
      return "";
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_BIGINT: {
      const s = r.string();
      const neg = s.startsWith("-");
      let n = 0n;
      for (let i = neg ? 1 : 0; i < s.length; i++) n = n * 36n + BigInt(parseInt(s[i]!, 36));
      return neg ? -n : n;
    }
    case T_ARRAY: {
      const n = r.varint();
      const a = new Array(n);
      for (let i = 0; i < n; i++) a[i] = readValue(r, classes, lenient);
      return a;
    }
    case T_OBJECT: {
      const n = r.varint();
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = r.string();
        const x = readValue(r, classes, lenient);
        if (k === "__proto__") Object.defineProperty(o, k, { value: x, enumerable: true });
        else o[k] = x;
      }
      return o;
    }
    case T_DATE:
      return new Date(r.f64());
    case T_MAP: {
      const n = r.varint();
      const m = new Map();
      for (let i = 0; i < n; i++) {
        const k = readValue(r, classes, lenient);
        m.set(k, readValue(r, classes, lenient));
      }
      return m;
    }
    case T_SET: {
      const n = r.varint();
      const s = new Set();
      for (let i = 0; i < n; i++) s.add(readValue(r, classes, lenient));
      return s;
    }
    case T_ARRAYBUFFER:
      return r.bytes(r.varint()).buffer;
    case T_TYPED: {
      const K = TYPED_KINDS[r.u8()];
      if (K === undefined) throw new RangeError("Unknown typed array kind in snapshot data");
      const bytes = r.bytes(r.varint());
      if (K === DataView) return new DataView(bytes.buffer);
      const T = K as unknown as new (b: ArrayBuffer) => unknown;
      return new T(bytes.buffer);
    }
    case T_REGEXP: {
      const source = r.string();
      return new RegExp(source, r.string());
    }
    case T_CLASS: {
      const name = r.string();
      const c = classes.find((x) => x.name === name);
      if (c === undefined && lenient) return { $class: name, plain: readValue(r, classes, true) };
      if (c === undefined) {
        throw new RangeError(
          `The snapshot holds an instance of class "${name}", but no ClassSerde of that ` +
            `name is registered (recovery option "classes")`,
        );
      }
      return c.fromPlain(readValue(r, classes, lenient));
    }
    default:
      throw new RangeError(`Unknown value tag ${tag} in snapshot data`);
  }
}

/** Moves `r` past one value written by {@linkcode writeValue}, without building it. */
export function skipValue(r: ByteReader): void {
  const tag = r.u8();
  switch (tag) {
    case T_INT:
      r.varint();
      return;
    case T_FLOAT:
    case T_DATE:
      r.f64();
      return;
    case T_STRING:
    case T_BIGINT:
      r.skip(r.varint());
      return;
    case T_EMPTY_STRING:
    case T_UNDEFINED:
    case T_NULL:
    case T_FALSE:
    case T_TRUE:
      return;
    case T_ARRAY:
    case T_SET: {
      const n = r.varint();
      for (let i = 0; i < n; i++) skipValue(r);
      return;
    }
    case T_OBJECT: {
      const n = r.varint();
      for (let i = 0; i < n; i++) {
        r.skip(r.varint());
        skipValue(r);
      }
      return;
    }
    case T_MAP: {
      const n = r.varint();
      for (let i = 0; i < 2 * n; i++) skipValue(r);
      return;
    }
    case T_ARRAYBUFFER:
      r.skip(r.varint());
      return;
    case T_TYPED:
      r.u8();
      r.skip(r.varint());
      return;
    case T_REGEXP:
      r.skip(r.varint());
      r.skip(r.varint());
      return;
    case T_CLASS:
      r.skip(r.varint());
      skipValue(r);
      return;
    default:
      throw new RangeError(`Unknown value tag ${tag} in snapshot data`);
  }
}

/**
 * Encodes one value to bytes (see the module documentation for what is supported).
 *
 * @example
 * ```ts
 * import { decodeValue, encodeValue } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const state = { count: 3, seen: new Set(["a", "b"]), at: new Date(0), big: 2n ** 70n };
 * assertEquals(decodeValue(encodeValue(state)), state);
 * ```
 */
export function encodeValue(value: unknown, classes: readonly ClassSerde[] = []): Uint8Array {
  const w = new ByteWriter(256);
  writeValue(w, value, classes);
  return w.buf.slice(0, w.pos);
}

/**
 * Decodes bytes made by {@linkcode encodeValue}.
 *
 * @example
 * ```ts
 * import { decodeValue, encodeValue } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(decodeValue(encodeValue(new Map([["k", [1, 2]]]))), new Map([["k", [1, 2]]]));
 * ```
 */
export function decodeValue(bytes: Uint8Array, classes: readonly ClassSerde[] = []): unknown {
  const r = new ByteReader(bytes);
  const v = readValue(r, classes);
  if (r.pos !== bytes.length) throw new RangeError("Trailing bytes after the encoded value");
  return v;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  // Slicing-by-4 tables.
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 4; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 (IEEE) of `bytes[start, end)`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = CRC_TABLE;
  let c = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^
      t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
