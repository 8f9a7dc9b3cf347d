import { assertEquals, assertThrows } from "@std/assert";
import {
  LATE_SESSION_ID,
  SessionWindower,
  SlidingWindower,
  TumblingWindower,
} from "../../src/windowing/windowers.ts";

const ALIGN = Date.UTC(2024, 0, 1, 9, 0, 0);
const S = 1_000;

Deno.test("sliding window ids (Bytewax's table: length 10 s, offsets 3, 5, 7, 10 s)", () => {
  const table: Array<[number, number, number, number[]]> = [
    [10, 5, 13, [1, 2]],
    [10, 5, -3, [-2, -1]],
    [10, 5, 3, [-1, 0]],
    [10, 5, 7, [0, 1]],
    [10, 5, 15, [2, 3]],
    [10, 5, -5, [-2, -1]],
    [10, 5, 0, [-1, 0]],
    [10, 5, 10, [1, 2]],
    [10, 3, 11, [1, 2, 3]],
    [10, 3, 11.5, [1, 2, 3]],
    [10, 3, -1, [-3, -2, -1]],
    [10, 3, -1.5, [-3, -2, -1]],
    [10, 3, 5, [-1, 0, 1]],
    [10, 7, 14, [1, 2]],
    [10, 7, -7, [-2, -1]],
    [10, 7, 0, [-1, 0]],
    [10, 7, 17, [2]],
    [10, 7, -4, [-1]],
    [10, 7, 10, [1]],
    [10, 10, 15, [1]],
    [10, 10, -5, [-1]],
    [10, 10, 5, [0]],
    [10, 10, 20, [2]],
    [10, 10, -10, [-1]],
    [10, 10, 0, [0]],
    [10, 10, 10, [1]],
  ];
  for (const [length, offset, rel, ids] of table) {
    const w = new SlidingWindower(length * S, offset * S, new Date(ALIGN));
    assertEquals(w.idsFor(ALIGN + rel * S), ids, `length ${length}, offset ${offset}, t ${rel}`);
    assertEquals(w.build(undefined).openFor(ALIGN + rel * S), ids);
  }
});

Deno.test("sliding windows close when the watermark reaches their end, in close order", () => {
  const w = new SlidingWindower(10 * S, 5 * S, 0).build(undefined);
  w.openFor(1 * S); // windows -1, 0
  w.openFor(12 * S); // windows 1, 2
  assertEquals(w.notifyAt(), 5 * S);
  assertEquals(w.closeFor(4_999), []);
  assertEquals(w.closeFor(15 * S), [
    [-1, { open: -5 * S, close: 5 * S, merged: [] }],
    [0, { open: 0, close: 10 * S, merged: [] }],
    [1, { open: 5 * S, close: 15 * S, merged: [] }],
  ]);
  assertEquals([w.notifyAt(), w.isEmpty()], [20 * S, false]);
  assertEquals(w.closeFor(Infinity).map(([id]) => id), [2]);
  assertEquals([w.notifyAt(), w.isEmpty()], [undefined, true]);
});

Deno.test("sliding windower state survives a snapshot round trip; late ids open nothing", () => {
  const w = new SlidingWindower(10 * S, 5 * S, 0).build(undefined);
  w.openFor(7 * S);
  assertEquals(w.lateFor(100 * S), [19, 20]);
  const resumed = new SlidingWindower(10 * S, 5 * S, 0).build(structuredClone(w.snapshot()));
  assertEquals(resumed.closeFor(Infinity).map(([id]) => id), [0, 1]);
});

Deno.test("tumbling windows are sliding windows with offset = length; bad shapes are rejected", () => {
  const w = new TumblingWindower(60 * S, ALIGN).build(undefined);
  // openFor may reuse its array: copy each result before the next call.
  const ids = [ALIGN, ALIGN + 59_999, ALIGN - 1].map((t) => [...w.openFor(t)]);
  assertEquals(ids, [[0], [0], [-1]]);
  assertThrows(() => new SlidingWindower(10, 11, 0), RangeError, "windows would leave gaps");
  assertThrows(
    () => new SlidingWindower(0, 1, 0),
    RangeError,
    "Window length must be a finite number of ms > 0, got 0",
  );
  assertThrows(
    () => new TumblingWindower(-1, 0),
    RangeError,
    "Window length must be a finite number of ms > 0, got -1",
  );
  // Infinite lengths, offsets or alignments make NaN window ids and close times: refused.
  assertThrows(
    () => new TumblingWindower(Infinity, 0),
    RangeError,
    "Window length must be a finite number of ms > 0, got Infinity",
  );
  assertThrows(
    () => new SlidingWindower(Infinity, Infinity, 0),
    RangeError,
    "Window length must be a finite number of ms > 0, got Infinity",
  );
  assertThrows(
    () => new TumblingWindower(10, new Date(NaN)),
    RangeError,
    "Window alignTo must be a finite time (epoch ms or a valid Date), got Invalid Date",
  );
  assertThrows(
    () => new TumblingWindower(10, -Infinity),
    RangeError,
    "Window alignTo must be a finite time (epoch ms or a valid Date), got -Infinity",
  );
});

const T9 = ALIGN; // 09:00:00

Deno.test("sessions: a first item opens session 0; items within the gap extend it (inclusive)", () => {
  const w = new SessionWindower(10 * S).build(undefined);
  assertEquals(w.openFor(T9), [0]);
  assertEquals(w.openFor(T9 + 5 * S), [0]);
  assertEquals(w.openFor(T9 + 10 * S), [0]);
  assertEquals(w.openFor(T9 + 15 * S), [0]); // within the gap after the end (09:00:10)
  assertEquals(w.closeFor(Infinity), [[0, { open: T9, close: T9 + 15 * S, merged: [] }]]);
});

Deno.test("sessions: items before the start extend backwards (exact gap included)", () => {
  const w = new SessionWindower(10 * S).build(undefined);
  w.openFor(T9);
  assertEquals(w.openFor(T9 - 5 * S), [0]);
  assertEquals(w.openFor(T9 - 15 * S), [0]);
  assertEquals(w.closeFor(Infinity)[0], [0, { open: T9 - 15 * S, close: T9, merged: [] }]);
});

Deno.test("sessions: an item inside a session changes nothing; far items open new ids", () => {
  const w = new SessionWindower(10 * S).build(undefined);
  w.openFor(T9);
  w.openFor(T9 + 10 * S);
  assertEquals(w.openFor(T9 + 5 * S), [0]);
  assertEquals(w.openFor(T9 + 21 * S), [1]);
  assertEquals(w.openFor(T9 - 11 * S), [2]);
  assertEquals(w.merged(), []);
});

Deno.test("sessions: a bridge item merges two sessions into the earlier one, reported once", () => {
  const w = new SessionWindower(10 * S).build(undefined);
  assertEquals([w.openFor(T9), w.openFor(T9 + 20 * S)], [[0], [1]]);
  assertEquals(w.openFor(T9 + 10 * S), [0]);
  assertEquals(w.merged(), [[1, 0]]);
  assertEquals(w.merged(), []);
  assertEquals(w.closeFor(Infinity), [[0, { open: T9, close: T9 + 20 * S, merged: [1] }]]);
});

Deno.test("sessions: extensions merge neighbours; merged ids accumulate", () => {
  const w = new SessionWindower(5 * S).build(undefined);
  assertEquals([w.openFor(0), w.openFor(12 * S), w.openFor(24 * S)], [[0], [1], [2]]);
  assertEquals(w.openFor(5 * S), [0]); // extends 0 to [0, 5]; 1 starts 7 s later: no merge
  assertEquals(w.merged(), []);
  assertEquals(w.openFor(9 * S), [0]); // 0 becomes [0, 9], 3 s before 1: merges 1
  assertEquals(w.merged(), [[1, 0]]);
  assertEquals(w.openFor(17 * S), [0]); // [0, 17]
  assertEquals(w.openFor(20 * S), [0]); // [0, 20], 4 s before 2: merges 2
  assertEquals(w.merged(), [[2, 0]]);
  assertEquals(w.closeFor(Infinity), [[0, { open: 0, close: 24 * S, merged: [1, 2] }]]);
});

Deno.test("sessions close once the watermark is more than the gap past their end", () => {
  const w = new SessionWindower(10 * S).build(undefined);
  w.openFor(0);
  assertEquals(w.notifyAt(), 10 * S + 1);
  assertEquals(w.closeFor(10 * S), []);
  assertEquals(w.closeFor(10 * S + 1).map(([id]) => id), [0]);
  assertEquals(w.isEmpty(), false); // keeps its id counter, like Bytewax
  assertEquals(w.lateFor(123), [LATE_SESSION_ID]);
  // Ids are not reused after a session closed.
  assertEquals(w.openFor(50 * S), [1]);
});

Deno.test("session state survives a snapshot round trip", () => {
  const w = new SessionWindower(10 * S).build(undefined);
  assertEquals([w.openFor(0), w.openFor(30 * S), w.openFor(15 * S)], [[0], [1], [2]]);
  const resumed = new SessionWindower(10 * S).build(structuredClone(w.snapshot()));
  assertEquals(resumed.openFor(5 * S), [0]); // [0, 5], then 2 (at 15 s) is within the gap
  assertEquals(resumed.merged(), [[2, 0]]);
  assertEquals(resumed.openFor(100 * S), [3]); // ids continue after the resume
  assertEquals(resumed.closeFor(Infinity).map(([id, m]) => [id, m.open, m.close]), [
    [0, 0, 15 * S],
    [1, 30 * S, 30 * S],
    [3, 100 * S, 100 * S],
  ]);
  assertThrows(
    () => new SessionWindower(-1),
    RangeError,
    "Session gap must be a finite number of ms >= 0, got -1",
  );
  // An infinite gap closed no session, not even at EOF: its items were silently dropped.
  assertThrows(
    () => new SessionWindower(Infinity),
    RangeError,
    "Session gap must be a finite number of ms >= 0, got Infinity",
  );
});
