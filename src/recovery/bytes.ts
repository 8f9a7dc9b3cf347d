/**
 * Byte I/O of the recovery format, with no platform API (it runs in Deno and in browsers
 * alike): {@linkcode ByteWriter} (a growable buffer with varints, fixed-width numbers and
 * strings), {@linkcode ByteReader} (reads what it wrote, bounds-checked) and
 * {@linkcode crc32}. The value codec (`codec.ts`) and the segment format (`segment.ts`) build
 * on it.
 *
 * @module
 */
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
