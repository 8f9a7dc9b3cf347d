// Bytewax's test_event_clock.py cases (times from 2024-01-01 00:00:00, wait 5 s), plus
// snapshots, Dates and the system-time clock.
import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "@std/assert";
import {
  Dataflow,
  DataflowError,
  foldWindow,
  SessionWindower,
  TumblingWindower,
  type Windower,
} from "../../mod.ts";
import { type ClockLogic, EventClock, SystemClock } from "../../src/windowing/clocks.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";

const T0 = Date.UTC(2024, 0, 1);
const S = 1_000;
const at = (s: number) => T0 + s * S;

/** [timestamp, watermark] after an item. */
function item<V>(c: ClockLogic<V, unknown>, v: V): [number, number] {
  return [c.onItem(v), c.watermark()];
}

function eventClock(waitFor = 5 * S) {
  return new EventClock((t: number | Date) => t, { waitFor }).build(undefined, T0);
}

Deno.test("event clock: before any item the watermark is -Infinity", () => {
  assertEquals(eventClock().onNotify(T0), -Infinity);
});

Deno.test("event clock: an item sets the watermark to its time minus the wait", () => {
  const c = eventClock();
  c.beforeBatch(T0);
  assertEquals(item(c, at(7)), [at(7), at(2)]);
});

Deno.test("event clock: the watermark advances with system time", () => {
  const c = eventClock();
  c.beforeBatch(T0);
  item(c, at(7));
  assertEquals(c.onNotify(T0 + 2 * S), at(4));
});

Deno.test("event clock: within a batch a later item moves it, an earlier one does not", () => {
  const c = eventClock();
  c.beforeBatch(T0);
  item(c, at(7));
  assertEquals(item(c, at(10))[1], at(5));
  const d = eventClock();
  d.beforeBatch(T0);
  item(d, at(7));
  assertEquals(item(d, at(3)), [at(3), at(2)]);
});

Deno.test("event clock: across batches the elapsed time counts; candidates behind it do not", () => {
  const c = eventClock();
  c.beforeBatch(T0);
  item(c, at(7));
  c.beforeBatch(T0 + 2 * S);
  assertEquals(item(c, at(3))[1], at(4));
  const d = eventClock();
  d.beforeBatch(T0);
  item(d, at(7));
  d.beforeBatch(T0 + 2 * S);
  assertEquals(item(d, at(8))[1], at(4)); // candidate 03 < current 04
});

Deno.test("event clock: EOF is +Infinity and stays there", () => {
  const c = eventClock();
  c.beforeBatch(T0);
  item(c, at(7));
  assertEquals([c.onEof(), c.onEof()], [Infinity, Infinity]);
  assertEquals(c.onNotify(T0 + 2 * S), Infinity);
});

Deno.test("event clock: waitFor Infinity closes nothing before EOF", () => {
  const c = eventClock(Infinity);
  c.beforeBatch(T0);
  assertEquals(item(c, at(7))[1], -Infinity);
  c.beforeBatch(T0 + 2 * S);
  assertEquals(item(c, at(10))[1], -Infinity);
  assertEquals(c.toSystemTime(at(20)), undefined);
  assertEquals(c.onEof(), Infinity);
});

Deno.test("event clock: system time never moves backwards", () => {
  const c = eventClock();
  c.beforeBatch(T0 + 10 * S);
  item(c, at(7)); // watermark 2, seen at system +10
  c.beforeBatch(T0 + 4 * S); // a clock regression is ignored
  assertEquals(c.onNotify(T0 + 3 * S), at(2));
  assertEquals(c.onNotify(T0 + 11 * S), at(3));
});

Deno.test("event clock: toSystemTime says when the watermark reaches a time; snapshots resume", () => {
  const c = eventClock();
  c.beforeBatch(T0 + 100 * S);
  item(c, at(7)); // watermark 2 at system +100
  assertEquals(c.toSystemTime(at(12)), T0 + 110 * S);
  const resumed = new EventClock((t: number) => t, { waitFor: 5 * S })
    .build(structuredClone(c.snapshot()), T0 + 100 * S);
  assertEquals(resumed.onNotify(T0 + 103 * S), at(5));
});

Deno.test("event clock: Date timestamps, and a bad timestamp is a clear error", () => {
  const c = new EventClock((e: { when: Date }) => e.when, { waitFor: 0 }).build(undefined, T0);
  c.beforeBatch(T0);
  assertEquals(item(c, { when: new Date(at(3)) }), [at(3), at(3)]);
  const bad = new EventClock((_e: unknown) => Number.NaN, { waitFor: 0 }).build(undefined, T0);
  assertThrows(() => bad.onItem("x"), TypeError, "The timestamp getter returned NaN");
  assertThrows(
    () => new EventClock((t: number) => t, { waitFor: -1 }),
    RangeError,
    "waitFor must be >= 0 ms (or Infinity), got -1",
  );
});

Deno.test("system-time clock: timestamp = watermark = the batch's now; EOF is +Infinity twice", () => {
  const c = new SystemClock<string>().build(undefined, T0);
  c.beforeBatch(T0 + S);
  assertEquals([item(c, "a"), item(c, "b")], [[T0 + S, T0 + S], [T0 + S, T0 + S]]);
  assertEquals(c.onNotify(T0 + 3 * S), T0 + 3 * S);
  assertEquals([c.onEof(), c.onEof()], [Infinity, Infinity]);
});

Deno.test("event clock: a timestamp that is not a finite number or a valid Date fails the run naming step, key and item", async () => {
  type R = { t: unknown };
  const expected = (item: string, got: string) =>
    `Step "ts.count.windows" for key "k": The clock failed on an item: The timestamp getter returned ` +
    `${got} for the item ${item}, expected epoch ms (a finite number) or a valid Date`;
  const cases: [R, string, string][] = [
    [{ t: Infinity }, "{ t: Infinity }", "Infinity"],
    [{ t: -Infinity }, "{ t: -Infinity }", "-Infinity"],
    [{ t: NaN }, "{ t: NaN }", "NaN"],
    [{ t: new Date(Number.NaN) }, "{ t: Invalid Date }", "an invalid Date (its time is NaN)"],
    [{ t: "2024-01-01" }, '{ t: "2024-01-01" }', '"2024-01-01" (a string)'],
    [{ t: undefined }, "{ t: undefined }", "undefined"],
    [{ t: 5n }, "{ t: 5n }", "5n (a bigint)"],
    [{ t: { at: [1, "x"] } }, '{ t: { at: [1, "x"] } }', '{ at: [1, "x"] } (an object)'],
  ];
  // The fused tumbling path and the general driver (sessions) check alike.
  const windowers: Windower[] = [new TumblingWindower(10 * S, T0), new SessionWindower(10 * S)];
  for (const windower of windowers) {
    for (const [bad, item, got] of cases) {
      const flow = new Dataflow("ts");
      const items: [string, R][] = [["k", { t: at(1) }], ["k", bad]];
      flow.input("inp", new TestingSource(items))
        .pipe(foldWindow("count", {
          clock: new EventClock((r: R) => r.t as number, { waitFor: 0 }),
          windower,
          builder: () => 0,
          folder: (n: number) => n + 1,
          merger: (a: number, b: number) => a + b,
          late: "drop",
        }))
        .output("out", new TestingSink([]));
      const err = await assertRejects(
        () => runMain(flow, { clock: new TestClock({ start: T0 }) }),
        DataflowError,
      );
      assertEquals(err.message, expected(item, got));
      assertEquals([err.stepId, err.key], ["ts.count.windows", "k"]);
      assertInstanceOf(err.cause, TypeError);
    }
  }
});
