// withBounds: window results paired with their windows' start and end, per windower.
import { assertEquals, assertThrows } from "@std/assert";
import {
  collectWindow,
  Dataflow,
  EventClock,
  keyOn,
  SessionWindower,
  SlidingWindower,
  TumblingWindower,
  window,
  type WindowBounds,
  type Windower,
  withBounds,
} from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";

const T0 = Date.UTC(2024, 0, 1);
const S = 1_000;
type E = { t: number; v: string };
const ev = (s: number, v: string): E => ({ t: T0 + s * S, v });

/**
 * Collects each key's values per window (all windows close at EOF, keys in sorted order) and pairs
 * the results with their bounds.
 */
async function boundsOf(windower: Windower, items: [string, E][], ordered = true) {
  const flow = new Dataflow("test_df");
  const windows = collectWindow("collect", flow.input("inp", new TestingSource(items)), {
    clock: new EventClock((e: E) => e.t, { waitFor: Infinity }),
    windower,
    ordered,
  });
  const out: [string, [WindowBounds, E[]]][] = [];
  withBounds("bounds", windows).output("out", new TestingSink(out));
  await runMain(flow, { clock: new TestClock({ start: T0 }) });
  return out.map(([k, [b, es]]) => [
    k,
    b.id,
    (b.open - T0) / S,
    (b.close - T0) / S,
    es.map((e) => e.v).join(""),
  ]);
}

Deno.test("withBounds: tumbling windows carry [open, close) with their results", async () => {
  const got = await boundsOf(new TumblingWindower(10 * S, T0), [
    ["a", ev(1, "x")],
    ["b", ev(4, "y")],
    ["a", ev(9, "z")],
    ["a", ev(12, "w")],
  ]);
  assertEquals(got, [
    ["a", 0, 0, 10, "xz"],
    ["a", 1, 10, 20, "w"],
    ["b", 0, 0, 10, "y"],
  ]);
});

Deno.test("withBounds: sliding windows (10 s every 5 s) each get their own bounds", async () => {
  const got = await boundsOf(new SlidingWindower(10 * S, 5 * S, T0), [
    ["a", ev(1, "x")],
    ["a", ev(7, "y")],
  ]);
  assertEquals(got, [
    ["a", -1, -5, 5, "x"],
    ["a", 0, 0, 10, "xy"],
    ["a", 1, 5, 15, "y"],
  ]);
});

Deno.test("withBounds: a session's bounds are known at close, merged sessions included", async () => {
  const got = await boundsOf(new SessionWindower(5 * S), [
    ["a", ev(1, "x")],
    ["a", ev(8, "z")], // a second session, until y bridges the gap
    ["a", ev(4, "y")],
    ["a", ev(30, "w")],
    ["b", ev(2, "v")],
  ], false); // applied as they arrive, so the two sessions of a really merge
  assertEquals(got, [
    ["a", 0, 1, 8, "xyz"],
    ["a", 2, 30, 30, "w"],
    ["b", 0, 2, 2, "v"],
  ]);
});

/** A session window whose logic emits a result when it absorbs a merged session. */
function mergeFlow(items: Array<E | TestingMarker>) {
  const flow = new Dataflow("test_df");
  const keyed = flow.input("inp", new TestingSource(items)).pipe(keyOn("key", () => "k"));
  const windows = window("w", keyed, {
    clock: new EventClock((e: E) => e.t, { waitFor: Infinity }),
    windower: new SessionWindower(5 * S),
    ordered: false,
  }, (resume: string | undefined) => {
    let vs = resume ?? "";
    return {
      onValue: (e: E) => ((vs += e.v), []),
      onMerge: () => [`merged at ${vs}`],
      onClose: () => [`closed with ${vs}`],
      snapshot: () => vs,
    };
  });
  const out: [string, [WindowBounds, string]][] = [];
  withBounds("bounds", windows).output("out", new TestingSink(out));
  const rows = () => out.map(([k, [b, r]]) => [k, b.id, (b.open - T0) / S, (b.close - T0) / S, r]);
  return { flow, rows };
}

// This logic does not absorb the merged session's values, so it closes with its own.
const MERGED = [["k", 0, 1, 8, "merged at xy"], ["k", 0, 1, 8, "closed with xy"]];

Deno.test("withBounds: results held from a session merge wait for the session's close", async () => {
  const { flow, rows } = mergeFlow([ev(1, "x"), ev(8, "z"), ev(4, "y")]);
  await runMain(flow, { clock: new TestClock({ start: T0 }) });
  assertEquals(rows(), MERGED);
});

Deno.test("withBounds: held results are snapshotted: a run aborted before the close resumes them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "weir_bounds_" });
  try {
    const recovery = { backend: fsBackend(`${dir}/store`), create: true };
    const { flow, rows } = mergeFlow([ev(1, "x"), ev(8, "z"), ev(4, "y"), TestingSource.ABORT()]);
    const opts = { clock: new TestClock({ start: T0 }), epochInterval: 0, recovery };
    assertEquals((await runMain(flow, opts)).status, "aborted");
    assertEquals(rows(), []); // "merged at xy" is held, waiting for the session's bounds
    assertEquals((await runMain(flow, opts)).status, "eof");
    assertEquals(rows(), MERGED);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withBounds: something other than a window operator's streams is a TypeError", () => {
  const flow = new Dataflow("test_df");
  const s = flow.input("inp", new TestingSource<[string, [number, number]]>([]));
  assertThrows(
    () => withBounds("b", undefined as never),
    TypeError,
    `withBounds("b") needs a window operator's { down, meta } streams, got undefined`,
  );
  assertThrows(
    () => withBounds("b", { down: s } as never),
    TypeError,
    'withBounds("b"): windows.meta must be a Stream, got undefined',
  );
});
