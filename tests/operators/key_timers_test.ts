import { assertEquals } from "@std/assert";
import { KeyTimers, TimerSlot } from "../../src/operators/_key_timers.ts";

/**
 * The string-keyed view the tests use: one slot per key, as statefulBatch keeps them. `now`
 * is the caller's time given to `set` (deadlines more than 1 s after it wait on the list).
 */
class Timers {
  readonly q = new KeyTimers();
  readonly slots = new Map<string, TimerSlot>();
  now = 0;
  #slot(key: string): TimerSlot {
    let s = this.slots.get(key);
    if (s === undefined) this.slots.set(key, s = new TimerSlot(key));
    return s;
  }
  set(key: string, time: number): void {
    this.q.set(this.#slot(key), time, this.now);
  }
  delete(key: string): void {
    this.q.delete(this.#slot(key));
  }
  peek(): number | undefined {
    return this.q.peek();
  }
  get size(): number {
    return this.q.size;
  }
  popDue(now: number): Array<[number, string]> {
    return this.q.popDue(now).map((s) => [s.due, s.key]);
  }
}

Deno.test("KeyTimers: earliest first, ties by key, one deadline per key", () => {
  const t = new Timers();
  t.set("b", 5);
  t.set("a", 5);
  t.set("c", 3);
  t.set("c", 9); // moved later
  assertEquals(t.peek(), 5);
  assertEquals(t.popDue(5), [[5, "a"], [5, "b"]]);
  assertEquals([t.peek(), t.size], [9, 1]);
  t.set("c", 1); // moved earlier
  assertEquals(t.popDue(100), [[1, "c"]]);
  assertEquals([t.peek(), t.size], [undefined, 0]);
});

Deno.test("KeyTimers: deadlines that keep moving later stay correct", () => {
  const t = new Timers();
  for (let i = 0; i < 1000; i++) {
    for (const k of ["x", "y", "z"]) t.set(k, i * 10 + k.charCodeAt(0));
  }
  assertEquals(t.popDue(9990 + "x".charCodeAt(0) - 1), []);
  t.delete("y");
  assertEquals(t.popDue(Infinity).map(([, k]) => k), ["x", "z"]);
});

Deno.test("KeyTimers: deadlines past the horizon wait on the list, are scanned in, survive rebuilds", () => {
  const t = new Timers(); // now = 0: deadlines from 1 000 ms on are listed, not in the heap
  t.set("a", 3_000);
  t.set("b", 1_500);
  assertEquals(t.peek()! <= 1_500, true);
  assertEquals(t.popDue(1_499), []);
  assertEquals(t.popDue(1_500), [[1_500, "b"]]); // the scan pushes b; a (past 2 500) stays listed
  assertEquals(t.popDue(2_999), []);
  assertEquals(t.popDue(3_000), [[3_000, "a"]]);
  // Many near deadlines moving earlier leave dead heap entries; the rebuild keeps listed ones.
  t.set("far", 50_000);
  for (let i = 0; i < 300; i++) t.set("near", 900 - i);
  assertEquals(t.size, 2);
  assertEquals(t.popDue(49_999), [[601, "near"]]);
  assertEquals(t.popDue(50_000), [[50_000, "far"]]);
  assertEquals([t.peek(), t.size], [undefined, 0]);
});

const cases = [
  // name, keys, share of moves to an earlier time, seed, deadline range (ms)
  ["random moves", 50, 0, 42, 1_000],
  ["moves mostly earlier, many keys", 400, 0.8, 7, 1_000],
  ["deadlines beyond the horizon, callers' times moving", 400, 0.8, 9, 20_000],
] as const;
for (const [name, keys, earlierBias, seed0, range] of cases) {
  Deno.test(`KeyTimers agrees with a brute-force model under ${name}`, () => {
    let seed = seed0;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const t = new Timers();
    const model = new Map<string, number>();
    for (let step = 0; step < 20_000; step++) {
      const key = `k${Math.floor(rnd() * keys)}`;
      const op = rnd();
      if (op < 0.6) {
        const old = model.get(key);
        const time = old !== undefined && rnd() < earlierBias
          ? old - Math.floor(rnd() * 50)
          : Math.floor(rnd() * range / 100) * 100;
        if (rnd() < 0.1) t.now = Math.floor(rnd() * range * 0.01) * 100;
        t.set(key, time);
        model.set(key, time);
      } else if (op < 0.7) {
        t.delete(key);
        model.delete(key);
      } else if (op < 0.8) {
        const now = Math.floor(rnd() * range * 0.003) * 100;
        const expected = [...model].filter(([, v]) => v <= now)
          .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .map(([k, v]): [number, string] => [v, k]);
        for (const [, k] of expected) model.delete(k);
        assertEquals(t.popDue(now), expected);
      } else {
        // peek() may be a lower bound (never later than the earliest deadline).
        const peek = t.peek();
        if (model.size > 0) {
          const min = Math.min(...model.values());
          assertEquals(peek !== undefined && peek <= min, true, `peek ${peek} > min ${min}`);
        }
        assertEquals(t.size, model.size);
      }
    }
  });
}
