// The windowing formulas (`_window_math.ts`) on concrete values, and the clock and windower that
// call them agreeing with them.
import { assertEquals } from "@std/assert";
import { EventClock, SlidingWindower, TumblingWindower } from "../../mod.ts";
import {
  advancedBase,
  eventSystemTime,
  eventWatermark,
  firstWindowId,
  lastWindowId,
  windowBounds,
  windowClose,
  windowIds,
  windowOpen,
} from "../../src/windowing/_window_math.ts";

const T0 = Date.UTC(2024, 0, 1);
const S = 1_000;

Deno.test("eventWatermark: the base advanced by the system time since the largest timestamp", () => {
  assertEquals(eventWatermark(T0, 500, 2_500), T0 + 2_000);
  assertEquals(eventWatermark(-Infinity, 0, 10 * S), -Infinity);
});

Deno.test("advancedBase: an item's ts − waitFor is taken only when ahead of the watermark", () => {
  // Watermark T0 + 2 s (base T0, 2 s of system time since): 7 s − 5 s = T0 + 2 s is not ahead.
  assertEquals(advancedBase(T0, 0, 2 * S, T0 + 7 * S, 5 * S), T0);
  assertEquals(advancedBase(T0, 0, 2 * S, T0 + 7 * S + 1, 5 * S), T0 + 2 * S + 1);
  // The first item is always taken; with waitFor = Infinity nothing ever is.
  assertEquals(advancedBase(-Infinity, 0, 0, T0, 0), T0);
  assertEquals(advancedBase(-Infinity, 0, 0, T0, Infinity), -Infinity);
});

Deno.test("eventSystemTime: when the watermark reaches ts; undefined before any item or at +Infinity", () => {
  assertEquals(eventSystemTime(T0, 100, T0 + 60 * S), 60 * S + 100);
  assertEquals(eventSystemTime(-Infinity, 100, T0), undefined);
  assertEquals(eventSystemTime(T0, 100, Infinity), undefined);
});

Deno.test("window ids and bounds: tumbling, sliding, negative ids", () => {
  assertEquals(lastWindowId(T0 + 59_999, T0, 60 * S), 0);
  assertEquals(lastWindowId(T0 + 60_000, T0, 60 * S), 1);
  assertEquals(lastWindowId(T0 - 1, T0, 60 * S), -1);
  assertEquals(firstWindowId(13 * S, 0, 5 * S, 10 * S), 1);
  assertEquals(windowIds(13 * S, 0, 5 * S, 10 * S), [1, 2]);
  assertEquals(windowIds(-1, 0, 10 * S, 10 * S), [-1]);
  assertEquals([windowOpen(2, T0, 5 * S), windowClose(2, T0, 5 * S, 10 * S)], [
    T0 + 10 * S,
    T0 + 20 * S,
  ]);
  assertEquals(windowBounds(-1, T0, 60 * S, 60 * S), { open: T0 - 60 * S, close: T0, merged: [] });
});

Deno.test("EventClock's logic and SlidingWindower give what the formulas give", () => {
  const clock = new EventClock((t: number) => t, { waitFor: 5 * S }).build(undefined, 100);
  clock.beforeBatch(100);
  clock.onItem(T0 + 7 * S);
  assertEquals(clock.watermark(), advancedBase(-Infinity, 100, 100, T0 + 7 * S, 5 * S));
  assertEquals(clock.onNotify(2_100), eventWatermark(T0 + 2 * S, 100, 2_100));
  assertEquals(clock.toSystemTime(T0 + 60 * S), eventSystemTime(T0 + 2 * S, 100, T0 + 60 * S));
  const sliding = new SlidingWindower(10 * S, 5 * S, T0);
  assertEquals(sliding.idsFor(T0 + 13 * S), windowIds(T0 + 13 * S, T0, 5 * S, 10 * S));
  assertEquals(sliding.metadataFor(3), windowBounds(3, T0, 5 * S, 10 * S));
  const tumbling = new TumblingWindower(60 * S, T0).build(undefined);
  assertEquals([...tumbling.openFor(T0 + 61 * S)], [lastWindowId(T0 + 61 * S, T0, 60 * S)]);
  assertEquals(tumbling.notifyAt(), windowClose(1, T0, 60 * S, 60 * S));
});
