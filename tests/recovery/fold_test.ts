import { assertEquals } from "@std/assert";
import { foldSegments } from "../../src/recovery/fold.ts";
import { randomUtf16Strings } from "./_strings.ts";
import { rng } from "../_rng.ts";
import {
  BASE,
  DELTA,
  readSegment,
  SegmentWriter,
  type SnapshotKind,
} from "../../src/recovery/segment.ts";

type Op =
  | { op: "put"; kind: SnapshotKind; step: string; key: string; value: unknown }
  | { op: "del"; kind: SnapshotKind; step: string; key: string }
  | { op: "drop"; kind: SnapshotKind; step: string };

/** Writes one segment from ops (grouped by step in order of appearance, like the runtime). */
function segment(type: number, epoch: number, ops: Op[]): Uint8Array {
  const w = new SegmentWriter(type);
  let current = "";
  for (const o of ops) {
    if (o.op === "drop") {
      w.drop(o.kind, o.step);
      current = "";
      continue;
    }
    const k = `${o.kind}:${o.step}`;
    if (k !== current) {
      w.step(o.kind, o.step);
      current = k;
    }
    if (o.op === "put") w.put(o.key, o.value);
    else w.del(o.key);
  }
  return w.finish(epoch, epoch - 1, epoch * 1000).slice();
}

/** The reference: replay decoded segments into maps. */
function replay(segs: Uint8Array[]): Map<string, Map<string, unknown>> {
  const out = new Map<string, Map<string, unknown>>();
  let cur = "";
  for (const bytes of segs) {
    readSegment("s", bytes, {
      step(kind, step) {
        cur = `${kind}:${step}`;
      },
      put(key, value) {
        let m = out.get(cur);
        if (m === undefined) out.set(cur, m = new Map());
        m.set(key, value);
      },
      del(key) {
        out.get(cur)?.delete(key);
      },
      drop(kind, step) {
        out.delete(`${kind}:${step}`);
      },
    });
  }
  for (const [k, m] of out) if (m.size === 0) out.delete(k);
  return out;
}

/** Sorted entries, so insertion order does not matter. */
function canonical(m: Map<string, Map<string, unknown>>) {
  return [...m].map(([k, v]) => [k, [...v].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))])
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
}

Deno.test("fold: overrides, discards, re-puts and drops, as a replay would", () => {
  const base = segment(BASE, 3, [
    { op: "put", kind: "state", step: "f.a", key: "x", value: 1 },
    { op: "put", kind: "state", step: "f.a", key: "y", value: { deep: [1, 2] } },
    { op: "put", kind: "state", step: "f.b", key: "x", value: "b-x" },
    { op: "put", kind: "source", step: "f.inp", key: "part", value: 10 },
  ]);
  const d1 = segment(DELTA, 4, [
    { op: "put", kind: "state", step: "f.a", key: "x", value: 2 },
    { op: "del", kind: "state", step: "f.a", key: "y" },
    { op: "put", kind: "state", step: "f.a", key: "zé日", value: new Map([["k", 1]]) },
    { op: "drop", kind: "state", step: "f.b" },
    { op: "put", kind: "source", step: "f.inp", key: "part", value: 20 },
  ]);
  const d2 = segment(DELTA, 5, [
    { op: "put", kind: "state", step: "f.a", key: "y", value: "back" },
    { op: "put", kind: "state", step: "f.b", key: "new", value: true },
  ]);
  const { bytes, entries } = foldSegments(
    [{ name: "b", bytes: base }, { name: "d1", bytes: d1 }, { name: "d2", bytes: d2 }],
    5,
    3,
    5000,
  );
  const trailer = readSegment("folded", bytes, undefined);
  assertEquals([trailer.type, trailer.epoch, trailer.prevEpoch, trailer.entries], [BASE, 5, 3, 5]);
  assertEquals(entries, 5);
  assertEquals(canonical(replay([bytes])), canonical(replay([base, d1, d2])));
  assertEquals(replay([bytes]).get("state:f.a")?.get("zé日"), new Map([["k", 1]]));
});

Deno.test("fold: 50K random ops over 3K keys in 4 steps match a replay", () => {
  const rand = rng(7);
  const steps = ["f.one", "f.two", "f.three"];
  const segs: Uint8Array[] = [];
  for (let epoch = 1; epoch <= 10; epoch++) {
    const ops: Op[] = [];
    for (const step of steps) {
      for (let i = 0; i < 1700; i++) {
        const key = `key-${Math.floor(rand() * 3000)}${rand() < 0.01 ? "ü" : ""}`;
        if (rand() < 0.15) ops.push({ op: "del", kind: "state", step, key });
        else ops.push({ op: "put", kind: "state", step, key, value: [epoch, i, key] });
      }
    }
    if (epoch === 6) ops.push({ op: "drop", kind: "state", step: "f.two" });
    ops.push({ op: "put", kind: "sink", step: "f.out", key: "part_0", value: epoch * 100 });
    segs.push(segment(epoch === 1 ? BASE : DELTA, epoch, ops));
  }
  const { bytes } = foldSegments(segs.map((b, i) => ({ name: `s${i}`, bytes: b })), 10, 1, 0);
  const folded = replay([bytes]);
  assertEquals(canonical(folded), canonical(replay(segs)));
  // Keys of the dropped step written after the drop survive; those before it do not.
  assertEquals(folded.get("sink:f.out")?.get("part_0"), 1000);
});

Deno.test("fold: keys and values with lone surrogates keep their identity through segments and folds", () => {
  const rand = rng(11);
  const strings = randomUtf16Strings(3, 400);
  // The model: what the state must be after each epoch, built without the codec.
  const model = new Map<string, string[]>();
  const segs: Uint8Array[] = [];
  for (let epoch = 1; epoch <= 4; epoch++) {
    const ops: Op[] = [];
    for (let i = 0; i < 300; i++) {
      const key = strings[Math.floor(rand() * strings.length)]!;
      if (rand() < 0.2) {
        ops.push({ op: "del", kind: "state", step: "f.s", key });
        model.delete(key);
      } else {
        const value = [key, strings[Math.floor(rand() * strings.length)]!];
        ops.push({ op: "put", kind: "state", step: "f.s", key, value });
        model.set(key, value);
      }
    }
    segs.push(segment(epoch === 1 ? BASE : DELTA, epoch, ops));
  }
  const expected = canonical(new Map([["state:f.s", model]]));
  assertEquals(canonical(replay(segs)), expected);
  const { bytes, entries } = foldSegments(
    segs.map((bytes, i) => ({ name: `s${i}`, bytes })),
    4,
    0,
    4000,
  );
  assertEquals(entries, model.size);
  assertEquals(canonical(replay([bytes])), expected);
  // The three keys that used to collapse into U+FFFD stay three keys.
  const w = new SegmentWriter(BASE);
  w.step("state", "f.s");
  for (const k of ["\ud800", "\udc00", "\ufffd"]) w.put(k, k.charCodeAt(0));
  const three = w.finish(1, 0, 1000).slice();
  const folded = foldSegments([{ name: "three", bytes: three }], 1, 0, 1000);
  assertEquals(folded.entries, 3);
  assertEquals(
    [...replay([folded.bytes]).get("state:f.s")!],
    [["\ud800", 0xd800], ["\udc00", 0xdc00], ["\ufffd", 0xfffd]],
  );
});
