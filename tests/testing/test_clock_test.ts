import { assertEquals, assertThrows } from "@std/assert";
import { TestClock } from "../../src/testing/mod.ts";

const never = new AbortController().signal;

Deno.test("TestClock starts at 0 by default, or at the given time or Date", () => {
  assertEquals(new TestClock().now(), 0);
  assertEquals(new TestClock({ start: 1_234 }).now(), 1_234);
  assertEquals(new TestClock({ start: new Date(5_000) }).now(), 5_000);
});

Deno.test("TestClock time moves only through advance and set", () => {
  const clock = new TestClock({ start: 100, autoAdvance: false });
  assertEquals(clock.now(), 100);
  clock.advance(50);
  assertEquals(clock.now(), 150);
  clock.set(1_000);
  assertEquals(clock.now(), 1_000);
  clock.set(new Date(2_000));
  assertEquals(clock.now(), 2_000);
  clock.set(2_000);
  clock.advance(0);
  assertEquals(clock.now(), 2_000);
});

Deno.test("TestClock can't go backwards", () => {
  const clock = new TestClock({ start: 100, autoAdvance: false });
  assertThrows(
    () => clock.set(50),
    RangeError,
    "A TestClock can't go backwards (from 100 to 50)",
  );
  assertThrows(() => clock.advance(-1), RangeError, "Can't advance a TestClock by -1 ms");
  assertThrows(() => clock.advance(Number.NaN), RangeError, "Can't advance a TestClock by NaN ms");
  assertEquals(clock.now(), 100);
});

Deno.test("advance wakes exactly the sleepers whose deadline passed", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const woken: number[] = [];
  for (const at of [100, 200, 300]) void clock.sleepUntil(at, never).then(() => woken.push(at));
  clock.advance(99);
  await Promise.resolve();
  assertEquals(woken, []);
  clock.advance(101);
  await Promise.resolve();
  assertEquals(woken, [100, 200]);
  clock.set(300);
  await Promise.resolve();
  assertEquals(woken, [100, 200, 300]);
});

Deno.test("sleepers are woken in deadline order, whatever their registration order", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const woken: number[] = [];
  for (const at of [300, 100, 200, 150]) {
    void clock.sleepUntil(at, never).then(() => woken.push(at));
  }
  clock.set(1_000);
  await Promise.resolve();
  assertEquals(woken, [100, 150, 200, 300]);
});

Deno.test("sleepers with the same deadline are woken in registration order", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const woken: string[] = [];
  for (const name of ["a", "b", "c"]) {
    void clock.sleepUntil(10, never).then(() => woken.push(name));
  }
  clock.advance(10);
  await Promise.resolve();
  assertEquals(woken, ["a", "b", "c"]);
});

Deno.test("sleepUntil resolves at once for a deadline that already passed", async () => {
  const clock = new TestClock({ start: 500, autoAdvance: false });
  let done = false;
  void clock.sleepUntil(500, never).then(() => done = true);
  await Promise.resolve();
  assertEquals(done, true);
  assertEquals(clock.now(), 500);
});

Deno.test("aborting the signal resolves a sleeper without moving time", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const ac = new AbortController();
  let done = false;
  const sleeping = clock.sleepUntil(1_000, ac.signal).then(() => done = true);
  await Promise.resolve();
  assertEquals(done, false);
  ac.abort();
  await sleeping;
  assertEquals(done, true);
  assertEquals(clock.now(), 0);
});

Deno.test("an aborted sleeper is forgotten: later time changes do not touch it", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const ac = new AbortController();
  let wakes = 0;
  const sleeping = clock.sleepUntil(100, ac.signal).then(() => wakes++);
  ac.abort();
  await sleeping;
  clock.advance(200);
  await Promise.resolve();
  assertEquals(wakes, 1);
});

Deno.test("sleepUntil with an already-aborted signal resolves at once", async () => {
  const clock = new TestClock({ autoAdvance: false });
  const ac = new AbortController();
  ac.abort();
  let done = false;
  void clock.sleepUntil(1_000, ac.signal).then(() => done = true);
  await Promise.resolve();
  assertEquals(done, true);
  assertEquals(clock.now(), 0);
});

Deno.test("with autoAdvance a sleeper jumps the clock to its deadline", async () => {
  const clock = new TestClock({ start: 5 });
  await clock.sleepUntil(60_000, never);
  assertEquals(clock.now(), 60_000);
});

Deno.test("with autoAdvance the jump waits one event-loop turn", async () => {
  const clock = new TestClock();
  let done = false;
  const sleeping = clock.sleepUntil(100, never).then(() => done = true);
  await Promise.resolve();
  assertEquals([done, clock.now()], [false, 0]);
  await sleeping;
  assertEquals([done, clock.now()], [true, 100]);
});

Deno.test("with autoAdvance an aborted sleeper does not move the clock", async () => {
  const clock = new TestClock();
  const ac = new AbortController();
  const sleeping = clock.sleepUntil(100, ac.signal);
  ac.abort();
  await sleeping;
  assertEquals(clock.now(), 0);
});

Deno.test("with autoAdvance concurrent sleepers wake in deadline order, each at its time", async () => {
  const clock = new TestClock();
  const woken: [number, number][] = [];
  await Promise.all(
    [300, 100, 200].map((at) =>
      clock.sleepUntil(at, never).then(() => woken.push([at, clock.now()]))
    ),
  );
  assertEquals(woken, [[100, 100], [200, 200], [300, 300]]);
});

Deno.test("with autoAdvance, manual advance still works and wakes sleepers", async () => {
  const clock = new TestClock();
  const sleeping = clock.sleepUntil(100, never);
  clock.advance(150);
  await sleeping;
  assertEquals(clock.now(), 150);
});
