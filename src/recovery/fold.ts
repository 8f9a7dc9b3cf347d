/**
 * Folding segments (a base and the deltas after it) into one new base, at the byte level:
 * keys are matched by their encoded bytes in a {@linkcode KeyTable}, and each surviving entry
 * is copied as it was encoded. Nothing is decoded, no key string is built and no `Map` is
 * touched — hashing a million fresh strings into a `Map` costs far more than this.
 *
 * @module
 */
import { StepTable } from "./key_table.ts";
import {
  BASE,
  type RawSegmentVisitor,
  readSegment,
  SegmentWriter,
  type SnapshotKind,
} from "./segment.ts";

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
    for (let e = 0; e < t.n; e++) {
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
