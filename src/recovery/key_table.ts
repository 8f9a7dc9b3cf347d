/**
 * {@linkcode KeyTable}: one step's keys, matched by their encoded bytes in an open-addressing
 * table, each with where its latest entry lies in which segment. No key string is built and no
 * `Map` is touched: hashing a million fresh strings into a `Map` costs far more than this.
 * Folding (`fold.ts`) and lazy resume (`lazy_state.ts`) both index segments with it.
 *
 * @module
 */
import type { SnapshotKind } from "./segment.ts";

/** The FNV-1a hash of `bytes[start, end)`. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * One step's keys: per entry, which segment, where its key starts and ends (its value follows
 * the key, up to `end`; -1 for a discarded key). Entries keep the order of their first record.
 * A key's bytes are its varint length and UTF-8 (or WTF-8) bytes as `ByteWriter.string` wrote
 * them, one encoding per string, so equal bytes are equal keys.
 */
export class KeyTable {
  /** Per entry: the segment (an index into the caller's segments). */
  seg: Int32Array;
  /** Per entry: where its key starts. */
  keyStart: Int32Array;
  /** Per entry: where its key ends (and its value starts). */
  keyEnd: Int32Array;
  /** Per entry: where its value ends; -1 for a discarded key. */
  end: Int32Array;
  private hashes: Int32Array;
  /** How many entries. */
  n = 0;
  /**
   * Open addressing, linear probing, at most half full: per slot its entry's hash, then the
   * entry (-1: free), side by side so that a probe reads one place in memory.
   */
  private slots: Int32Array;

  /** @param capacity Entries to make room for at once. */
  constructor(capacity = 512) {
    let c = 1024;
    while (c < capacity * 2) c *= 2;
    this.slots = new Int32Array(c * 2).fill(-1);
    const n = c >> 1;
    this.seg = new Int32Array(n);
    this.keyStart = new Int32Array(n);
    this.keyEnd = new Int32Array(n);
    this.end = new Int32Array(n);
    this.hashes = new Int32Array(n);
  }

  /** Records the key at `segs[seg][keyStart, keyEnd)`; the latest record of a key wins. */
  set(segs: readonly Uint8Array[], seg: number, keyStart: number, keyEnd: number, end: number) {
    const bytes = segs[seg]!;
    const h = hashBytes(bytes, keyStart, keyEnd) | 0;
    const e = this.find(segs, bytes, keyStart, keyEnd, h);
    if (e >= 0) {
      this.seg[e] = seg;
      this.keyStart[e] = keyStart;
      this.keyEnd[e] = keyEnd;
      this.end[e] = end;
      return;
    }
    const n = this.n++;
    if (n === this.seg.length) this.grow();
    this.seg[n] = seg;
    this.keyStart[n] = keyStart;
    this.keyEnd[n] = keyEnd;
    this.end[n] = end;
    this.hashes[n] = h;
    KeyTable.place(this.slots, n, h);
  }

  /**
   * The entry whose key bytes are `bytes[keyStart, keyEnd)` (with `h` their hash from
   * {@linkcode hashBytes}, as an int32), or -1.
   */
  find(
    segs: readonly Uint8Array[],
    bytes: Uint8Array,
    keyStart: number,
    keyEnd: number,
    h: number,
  ): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    const len = keyEnd - keyStart;
    for (let i = (h << 1) & mask;; i = (i + 2) & mask) {
      const e = slots[i + 1]!;
      if (e === -1) return -1;
      if (slots[i] !== h) continue;
      const os = this.keyStart[e]!;
      if (this.keyEnd[e]! - os !== len) continue;
      const other = segs[this.seg[e]!]!;
      let k = 0;
      while (k < len && other[os + k] === bytes[keyStart + k]) k++;
      if (k === len) return e;
    }
  }

  /** Puts entry `e` with hash `h` in the first free slot of `slots`. */
  private static place(slots: Int32Array, e: number, h: number): void {
    const mask = slots.length - 2;
    let i = (h << 1) & mask;
    while (slots[i + 1] !== -1) i = (i + 2) & mask;
    slots[i] = h;
    slots[i + 1] = e;
  }

  /** Doubles the entry arrays and the slots. */
  private grow(): void {
    const cap = this.seg.length * 2;
    const more = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.seg = more(this.seg);
    this.keyStart = more(this.keyStart);
    this.keyEnd = more(this.keyEnd);
    this.end = more(this.end);
    this.hashes = more(this.hashes);
    const slots = new Int32Array(cap * 4).fill(-1);
    for (let e = 0; e < this.n - 1; e++) KeyTable.place(slots, e, this.hashes[e]!);
    this.slots = slots;
  }
}

/** A {@linkcode KeyTable} with the step it belongs to. */
export class StepTable extends KeyTable {
  /**
   * @param kind What the keys are: a stateful step's keys, or partitions.
   * @param stepId The step.
   */
  constructor(readonly kind: SnapshotKind, readonly stepId: string) {
    super();
  }
}
