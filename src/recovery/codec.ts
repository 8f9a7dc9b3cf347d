/**
 * The binary codec of recovery snapshots: structured-clone values to bytes and back, with no
 * platform API (it runs in Deno and in browsers alike), over the byte I/O of `bytes.ts`.
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
import { ByteReader, ByteWriter } from "./bytes.ts";

// Until the backends import it from bytes.ts (deno_kv.ts and idb.ts import it from here).

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
