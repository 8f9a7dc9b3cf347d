/**
 * Folding segments (a base and the deltas after it) into one new base, at the byte level:
 * keys are matched by their encoded bytes in an open-addressing table, and each surviving
 * entry is copied as it was encoded. Nothing is decoded, no key string is built and no `Map`
 * is touched — hashing a million fresh strings into a `Map` costs far more than this.
 *
 * @module
 */
import {
  BASE,
  type RawSegmentVisitor,
  readSegment,
  SegmentWriter,
  type SnapshotKind,
} from "./segment.ts";

/** One step's keys: the latest entry of each, by key bytes. */
class StepTable {
  /** Per entry: which segment, where its key starts and ends (its value follows the key). */
  readonly seg: number[] = [];
  readonly keyStart: number[] = [];
  readonly keyEnd: number[] = [];
  /** Where the entry's value ends; -1 for a discarded key. */
  readonly end: number[] = [];
  private readonly hashes: number[] = [];
  private slots = new Int32Array(1024).fill(-1);

  constructor(readonly kind: SnapshotKind, readonly stepId: string) {}

  /** Records the key at `segs[seg][keyStart, keyEnd)`; the latest record of a key wins. */
  set(segs: readonly Uint8Array[], seg: number, keyStart: number, keyEnd: number, end: number) {
    const bytes = segs[seg]!;
    let h = 0x811c9dc5;
    for (let i = keyStart; i < keyEnd; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    h >>>= 0;
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = h & mask;
    for (;;) {
      const e = slots[i]!;
      if (e === -1) break;
      if (this.hashes[e] === h && this.sameKey(segs, e, bytes, keyStart, keyEnd)) {
        this.seg[e] = seg;
        this.keyStart[e] = keyStart;
        this.keyEnd[e] = keyEnd;
        this.end[e] = end;
        return;
      }
      i = (i + 1) & mask;
    }
    const n = this.seg.length;
    slots[i] = n;
    this.seg.push(seg);
    this.keyStart.push(keyStart);
    this.keyEnd.push(keyEnd);
    this.end.push(end);
    this.hashes.push(h);
    if (n * 2 >= slots.length) this.grow();
  }

  private sameKey(
    segs: readonly Uint8Array[],
    e: number,
    bytes: Uint8Array,
    keyStart: number,
    keyEnd: number,
  ): boolean {
    const other = segs[this.seg[e]!]!;
    const os = this.keyStart[e]!;
    const len = keyEnd - keyStart;
    if (this.keyEnd[e]! - os !== len) return false;
    for (let k = 0; k < len; k++) if (other[os + k] !== bytes[keyStart + k]) return false;
    return true;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let e = 0; e < this.hashes.length; e++) {
      let i = this.hashes[e]! & mask;
      while (slots[i] !== -1) i = (i + 1) & mask;
      slots[i] = e;
    }
    this.slots = slots;
  }
}

/**
 * Folds `segments` (oldest first: a base, then deltas) into the bytes of a base segment for
 * `epoch`. Returns the bytes and the number of entries.
 */
export function foldSegments(
  segments: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>,
  epoch: number,
  prevEpoch: number,
  committedAt: number,
): { bytes: Uint8Array; entries: number } {
  const tables = new Map<string, StepTable>();
  const segs = segments.map((s) => s.bytes);
  let seg = 0;
  let table: StepTable | undefined;
  let kind: SnapshotKind = "state";
  let stepId = "";
  const tableFor = () => {
    const k = kind + ":" + stepId;
    let t = tables.get(k);
    if (t === undefined) tables.set(k, t = new StepTable(kind, stepId));
    return t;
  };
  const visitor: RawSegmentVisitor = {
    step(k, id) {
      kind = k;
      stepId = id;
      table = undefined;
    },
    put(keyStart, valueStart, end) {
      (table ??= tableFor()).set(segs, seg, keyStart, valueStart, end);
    },
    del(keyStart, end) {
      // A discarded key keeps its slot, marked by end -1.
      (table ??= tableFor()).set(segs, seg, keyStart, end, -1);
    },
    drop(k, id) {
      tables.delete(k + ":" + id);
      if (k === kind && id === stepId) table = undefined;
    },
  };
  for (seg = 0; seg < segments.length; seg++) {
    readSegment(segments[seg]!.name, segs[seg]!, undefined, [], false, visitor);
  }
  const out = new SegmentWriter(BASE);
  for (const t of tables.values()) {
    let stepped = false;
    for (let e = 0; e < t.seg.length; e++) {
      const end = t.end[e]!;
      if (end < 0) continue;
      if (!stepped) {
        out.step(t.kind, t.stepId);
        stepped = true;
      }
      out.putEncoded(segs[t.seg[e]!]!, t.keyStart[e]!, end);
    }
  }
  return { bytes: out.finish(epoch, prevEpoch, committedAt), entries: out.entries };
}
