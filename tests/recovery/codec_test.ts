import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { ByteReader, ByteWriter, crc32 } from "../../src/recovery/bytes.ts";
import {
  type ClassSerde,
  CodecError,
  decodeValue,
  encodeValue,
  readValue,
  skipValue,
  writeValue,
} from "../../src/recovery/codec.ts";
import { randomUtf16Strings } from "./_strings.ts";

const roundTrip = (v: unknown, classes: ClassSerde[] = []) =>
  decodeValue(encodeValue(v, classes), classes);

Deno.test("codec: primitives round-trip exactly", () => {
  const values = [
    undefined,
    null,
    true,
    false,
    0,
    1,
    -1,
    63,
    64,
    -65,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53 - 1,
    -(2 ** 53),
    0.1,
    -1.5e-300,
    Infinity,
    -Infinity,
    1e308,
    "",
    "a",
    "héllo wörld",
    "日本語",
    "emoji 😀 pair",
    "x".repeat(127),
    "y".repeat(128),
    "é".repeat(100),
    "z".repeat(100_000),
    0n,
    -1n,
    2n ** 200n,
    -(3n ** 100n),
  ];
  for (const v of values) assertStrictEquals(roundTrip(v), v, `value ${String(v).slice(0, 40)}`);
  assert(Object.is(roundTrip(-0), -0));
  assert(Number.isNaN(roundTrip(NaN)));
});

Deno.test("codec: containers and built-ins round-trip", () => {
  const v = {
    list: [1, "two", [3, [4]], { five: 5 }],
    map: new Map<unknown, unknown>([["k", 1], [2, new Set([1, 2])], [null, { a: [] }]]),
    set: new Set(["a", "b", 3]),
    at: new Date(Date.UTC(2026, 10, 30, 12)),
    re: /ab+c/gi,
    bytes: new Uint8Array([0, 1, 255]),
    floats: new Float64Array([1.5, -2.25]),
    ints: new Int32Array([-1, 2 ** 31 - 1]),
    bigs: new BigInt64Array([-5n, 7n]),
    buffer: new Uint8Array([9, 8, 7]).buffer,
    nested: { deep: { deeper: { deepest: "x" } } },
    nothing: undefined,
    empty: {},
  };
  assertEquals(roundTrip(v), v);
  // A null-prototype object reads back as a plain object, as with structuredClone.
  assertEquals(roundTrip(Object.assign(Object.create(null), { k: 1 })), { k: 1 });
  const view = roundTrip(new DataView(new Uint8Array([1, 2, 3]).buffer)) as DataView;
  assertEquals(view.getUint8(2), 3);
  // Holes read back as undefined.
  // deno-lint-ignore no-sparse-arrays
  assertEquals(roundTrip([1, , 3]), [1, undefined, 3]);
});

Deno.test("codec: a __proto__ key stays an own property", () => {
  const v = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
  const back = roundTrip(v) as Record<string, unknown>;
  assertEquals(Object.keys(back), ["__proto__", "x"]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  assertEquals(Object.getPrototypeOf(back), Object.prototype);
});

Deno.test("codec: classes go through a ClassSerde, unknown ones are refused with the path", () => {
  class Point {
    constructor(readonly x: number, readonly y: number) {}
  }
  const point: ClassSerde<Point, number[]> = {
    name: "Point",
    type: Point,
    toPlain: (p) => [p.x, p.y],
    fromPlain: ([x, y]) => new Point(x!, y!),
  };
  const back = roundTrip({ at: [new Point(1, 2)] }, [point as ClassSerde]) as { at: Point[] };
  assert(back.at[0] instanceof Point);
  assertEquals(back.at[0], new Point(1, 2));
  const err = assertThrows(() => encodeValue({ at: [new Point(1, 2)] }), CodecError);
  assertEquals(err.path, "$.at[0]");
  assert(err.message.includes("Point"));
  // Reading a class instance without its serde is refused, or lenient.
  const bytes = encodeValue(new Point(3, 4), [point as ClassSerde]);
  assertThrows(() => decodeValue(bytes), RangeError, 'class "Point"');
  assertEquals(readValue(new ByteReader(bytes), [], true), { $class: "Point", plain: [3, 4] });
});

Deno.test("codec: functions, symbols, cycles and boxed primitives are refused", () => {
  assertThrows(() => encodeValue({ f: () => 1 }), CodecError, "function in a snapshot at $.f");
  assertThrows(() => encodeValue([Symbol("s")]), CodecError, "symbol in a snapshot at $[0]");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assertThrows(() => encodeValue(cyclic), CodecError, "cyclic");
  assertThrows(() => encodeValue(new Map([["k", new WeakMap()]])), CodecError, 'get("k")');
  assertThrows(() => encodeValue(new String("boxed")), CodecError, "String");
});

Deno.test("codec: several values in one buffer, growing it", () => {
  const w = new ByteWriter(4);
  const values = [1, "two", { three: [3] }, new Map([["four", 4]]), "é".repeat(5000)];
  for (const v of values) writeValue(w, v);
  const r = new ByteReader(w.buf, 0, w.pos);
  for (const v of values) assertEquals(readValue(r), v);
  assertEquals(r.pos, w.pos);
});

Deno.test("codec: truncated or unknown data is an error, not a wrong value", () => {
  const bytes = encodeValue({ a: "hello", b: [1, 2, 3] });
  for (let n = 0; n < bytes.length; n++) {
    assertThrows(() => decodeValue(bytes.subarray(0, n)));
  }
  assertThrows(() => decodeValue(new Uint8Array([200])), RangeError, "Unknown value tag");
  assertThrows(() => decodeValue(new Uint8Array([...bytes, 0])), RangeError, "Trailing");
});

Deno.test("crc32 matches the IEEE check value and detects a flipped bit", () => {
  const check = new TextEncoder().encode("123456789");
  assertEquals(crc32(check), 0xcbf43926);
  assertEquals(crc32(new Uint8Array(0)), 0);
  const data = new Uint8Array(1001).map((_, i) => (i * 31) & 0xff);
  const sum = crc32(data);
  data[500] = data[500]! ^ 1;
  assert(crc32(data) !== sum);
  // A sub-range equals the CRC of the copied range.
  assertEquals(crc32(data, 3, 700), crc32(data.slice(3, 700)));
});

Deno.test("codec: skipValue moves past exactly one value of every kind", () => {
  const values = [
    1,
    -1.5,
    "s",
    "",
    10n,
    null,
    undefined,
    true,
    [1, [2, "x"]],
    { a: { b: [new Date(5)] } },
    new Map([[1, new Set(["x"])]]),
    new Uint16Array([1, 2]),
    new Uint8Array([3]).buffer,
    /x/g,
  ];
  const w = new ByteWriter(8);
  for (const v of values) writeValue(w, v);
  writeValue(w, "end");
  const r = new ByteReader(w.buf, 0, w.pos);
  for (let i = 0; i < values.length; i++) skipValue(r);
  assertEquals(readValue(r), "end");
});

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("codec: random UTF-16 strings round-trip exactly as values, keys, members and names", () => {
  const strings = randomUtf16Strings(1, 3000);
  assert(strings.some((s) => !s.isWellFormed()) && strings.some((s) => s.length >= 5000));
  const byBytes = new Map<string, string>();
  for (const s of strings) {
    const bytes = encodeValue(s);
    assertStrictEquals(decodeValue(bytes), s, `string ${JSON.stringify(s.slice(0, 20))}`);
    // One encoding per string: equal bytes only for equal strings.
    const seen = byBytes.get(hex(bytes));
    if (seen !== undefined) assertStrictEquals(seen, s);
    byBytes.set(hex(bytes), s);
    assertEquals(hex(encodeValue(s)), hex(bytes));
  }
  assertEquals(byBytes.size, new Set(strings).size);
  // As object property names, Map keys and values, Set members, array items and RegExp source.
  const obj: Record<string, string> = {};
  for (const s of strings) obj[s] = s;
  const back = roundTrip({
    obj,
    map: new Map(strings.map((s, i) => [s, i])),
    set: new Set(strings),
    arr: strings,
    re: new RegExp("\ud800x\udc00"),
  }) as {
    obj: Record<string, string>;
    map: Map<string, number>;
    set: Set<string>;
    arr: string[];
    re: RegExp;
  };
  assertEquals(Object.keys(back.obj), Object.keys(obj));
  for (const k of Object.keys(obj)) assertStrictEquals(back.obj[k], k);
  assertEquals([...back.map.keys()], [...new Set(strings)]);
  assertEquals([...back.set], [...new Set(strings)]);
  for (let i = 0; i < strings.length; i++) assertStrictEquals(back.arr[i], strings[i]);
  assertStrictEquals(back.re.source, "\ud800x\udc00");
  // Through the raw writer and reader, as segment keys and step ids use them.
  const w = new ByteWriter(16);
  for (const s of strings) w.string(s);
  const r = new ByteReader(w.buf, 0, w.pos);
  for (const s of strings) assertStrictEquals(r.string(), s);
  assertEquals(r.pos, w.pos);
});

Deno.test("codec: lone surrogates are stored as WTF-8, well-formed strings as UTF-8, a BOM kept", () => {
  assertEquals(hex(encodeValue("\ud800")), "0603eda080");
  assertEquals(hex(encodeValue("\udc00")), "0603edb080");
  assertEquals(hex(encodeValue("\ufffd")), "0603efbfbd");
  assertEquals(hex(encodeValue("\ud83d\ude00")), "0604f09f9880");
  assertEquals(hex(encodeValue("\udc00\ud800")), "0606edb080eda080");
  // A leading U+FEFF is part of the string (TextDecoder would drop it as a byte order mark).
  assertStrictEquals(decodeValue(encodeValue("\ufeffkey-é")), "\ufeffkey-é");
  // A pair written as two 3-byte halves is not what the writer makes: refused, not misread.
  assertThrows(
    () => decodeValue(Uint8Array.from([6, 6, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80])),
    RangeError,
    "Invalid string bytes in snapshot data (byte 5)",
  );
  assertThrows(
    () => decodeValue(Uint8Array.from([6, 2, 0xc0, 0x80])),
    RangeError,
    "Invalid string bytes in snapshot data (byte 2)",
  );
});

Deno.test("codec: a cyclic value's error names the back reference and the ancestor it leads to", () => {
  const cycleError = (v: unknown) => assertThrows(() => encodeValue(v), CodecError);
  const message = (path: string) =>
    "Cannot store a cyclic value (a snapshot holds trees; store an id in place of the back " +
    `reference) at ${path}`;
  const root: Record<string, unknown> = { a: { b: null } };
  (root.a as Record<string, unknown>).b = root;
  let err = cycleError(root);
  assertEquals(err.message, message("$.a.b → $"));
  assertEquals(err.path, "$.a.b → $");
  // A cycle below the root, through a Map, an array and a Set.
  const node: { next: unknown[] } = { next: [] };
  const state = { ok: [1, 2], m: new Map([["n", node]]) };
  node.next.push(new Set([node]));
  err = cycleError(state);
  assertEquals(err.path, '$.m.get("n").next[0].<item 0> → $.m.get("n")');
  // Through a class serde: the instance comes back, not the plain object toPlain made.
  class Ring {
    next: Ring = this;
  }
  const ring: ClassSerde<Ring, { next: Ring }> = {
    name: "Ring",
    type: Ring,
    toPlain: (r) => ({ next: r.next }),
    fromPlain: (p) => p.next,
  };
  err = assertThrows(() => encodeValue(new Ring(), [ring as ClassSerde]), CodecError);
  assertEquals(err.path, "$<Ring>.next → $");
  // Shared but acyclic references are fine; an honest deep value has its own message.
  const shared = { x: 1 };
  assertEquals(roundTrip([shared, shared, { s: shared }]), [{ x: 1 }, { x: 1 }, { s: { x: 1 } }]);
  let deep: unknown = "leaf";
  for (let i = 0; i < 600; i++) deep = [deep];
  err = cycleError(deep);
  assertEquals(
    err.message,
    "Value nests deeper than 512 levels (a snapshot holds at most 512; flatten the state) at $" +
      "[0]".repeat(512),
  );
  let ok: unknown = "leaf";
  for (let i = 0; i < 511; i++) ok = [ok];
  assertEquals(roundTrip(ok), ok);
});
