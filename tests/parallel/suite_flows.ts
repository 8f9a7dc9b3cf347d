/**
 * Flows of the operator, stateful and windowing suites as factories, so that
 * tests/parallel/suites_test.ts runs each on 1 worker and on 2 (every worker imports this
 * module and calls the factory; the test's own call keeps the TestingSink's array).
 *
 * Each factory takes the output array (its worker copies stay unused) and returns the flow.
 */
import { filter, map } from "rxjs";
import {
  collect,
  countFinal,
  countWindow,
  Dataflow,
  EventClock,
  flatMap,
  foldFinal,
  foldWindow,
  join,
  joinWindow,
  keyOn,
  mapValue,
  maxFinal,
  minFinal,
  redistribute,
  reduceFinal,
  SessionWindower,
  SlidingWindower,
  stateful,
  statefulMap,
  TumblingWindower,
} from "../../mod.ts";
import { TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** Seeded words over `vocabulary` keys. */
export function words(n: number, vocabulary: number, seed = 7): string[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return `w${(x >>> 8) % vocabulary}`;
  });
}

const T0 = Date.UTC(2026, 0, 1);
interface Ev {
  readonly user: string;
  readonly t: number;
  readonly v: number;
}
/** Events of 12 users, one second apart, in order. */
function events(n: number): Ev[] {
  return words(n, 12, 3).map((user, i) => ({ user, t: T0 + i * 1000, v: i % 10 }));
}

type Out = unknown[];

/** Every flow of the suites, by name. */
export const FLOWS: Record<string, (out: Out) => Dataflow> = {
  stateless(out) {
    const flow = new Dataflow("stateless");
    flow.input("inp", new TestingSource(words(500, 40), { batchSize: 7 }))
      .pipe(
        map((w: string) => w.toUpperCase()),
        filter((w) => w.length > 2),
        flatMap("twice", (w: string) => [w, `${w}!`]),
        redistribute("spread"),
        keyOn("key", (w: string) => w.slice(0, 2)),
        mapValue("len", (w: string) => w.length),
      )
      .output("out", new TestingSink(out));
    return flow;
  },
  countFinal(out) {
    const flow = new Dataflow("count");
    flow.input("inp", new TestingSource(words(3000, 300), { batchSize: 64 }))
      .pipe(countFinal("count", (w: string) => w))
      .output("out", new TestingSink(out));
    return flow;
  },
  foldReduceMaxMin(out) {
    const flow = new Dataflow("folds");
    const nums = flow.input("inp", new TestingSource(words(2000, 50), { batchSize: 10 }))
      .pipe(keyOn("key", (w) => w.slice(0, 2)), mapValue("n", (w: string) => Number(w.slice(1))));
    nums.pipe(foldFinal("fold", () => [] as number[], (acc: number[], v: number) => [...acc, v]))
      .output("fold_out", new TestingSink(out));
    nums.pipe(reduceFinal("sum", (a: number, b: number) => a + b))
      .output("sum_out", new TestingSink(out));
    nums.pipe(maxFinal("max")).output("max_out", new TestingSink(out));
    // With a merge: pre-aggregated on several workers.
    nums.pipe(foldFinal("stats", () => ({ n: 0, sum: 0 }), (a, v: number) => ({
      n: a.n + 1,
      sum: a.sum + v,
    }), { merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }) }))
      .output("stats_out", new TestingSink(out));
    nums.pipe(minFinal("min")).output("min_out", new TestingSink(out));
    return flow;
  },
  statefulMap(out) {
    const flow = new Dataflow("running");
    flow.input("inp", new TestingSource(words(2000, 60), { batchSize: 13 }))
      .pipe(
        keyOn("key", (w: string) => w),
        statefulMap("run", (s: number | undefined, _w: string) => [(s ?? 0) + 1, (s ?? 0) + 1]),
      )
      .output("out", new TestingSink(out));
    return flow;
  },
  stateful(out) {
    const flow = new Dataflow("pairs");
    flow.input("inp", new TestingSource(words(1000, 30), { batchSize: 5 }))
      .pipe(
        keyOn("key", (w: string) => w),
        // Emits the previous and current index of a word, and discards after 5 sightings.
        stateful("pairs", (resume: number[] | undefined) => {
          const seen = resume ?? [];
          return {
            onItem(w: string) {
              seen.push(w.length);
              return [[seen.length], seen.length >= 5];
            },
            snapshot: () => seen,
          };
        }),
      )
      .output("out", new TestingSink(out));
    return flow;
  },
  collect(out) {
    const flow = new Dataflow("collect");
    flow.input("inp", new TestingSource(words(600, 20), { batchSize: 9 }))
      .pipe(keyOn("key", (w: string) => w), collect("all", { maxSize: 7, timeout: 3_600_000 }))
      .output("out", new TestingSink(out));
    return flow;
  },
  join(out) {
    const flow = new Dataflow("join");
    const left = flow.input("left", new TestingSource(words(300, 25, 1), { batchSize: 4 }))
      .pipe(keyOn("lk", (w: string) => w));
    const right = flow.input("right", new TestingSource(words(300, 25, 2), { batchSize: 6 }))
      .pipe(keyOn("rk", (w: string) => w), mapValue("len", (w: string) => w.length));
    join("joined", [left, right], { emitMode: "running" }).output("out", new TestingSink(out));
    return flow;
  },
  tumblingCount(out) {
    const flow = new Dataflow("tumbling");
    const { down } = countWindow("count", flow.input("inp", new TestingSource(events(2000))), {
      clock: new EventClock((e: Ev) => e.t, { waitFor: 0 }),
      windower: new TumblingWindower(60_000, T0),
      keyFn: (e) => e.user,
    });
    down.output("out", new TestingSink(out));
    return flow;
  },
  slidingFold(out) {
    const flow = new Dataflow("sliding");
    const inp = flow.input("inp", new TestingSource(events(1500), { batchSize: 20 }))
      .pipe(keyOn("key", (e: Ev) => e.user));
    const { down } = foldWindow("sum", inp, {
      clock: new EventClock((e: Ev) => e.t, { waitFor: 5000 }),
      windower: new SlidingWindower(30_000, 10_000, T0),
      builder: () => 0,
      folder: (acc: number, e: Ev) => acc + e.v,
      merger: (a: number, b: number) => a + b,
    });
    down.output("out", new TestingSink(out));
    return flow;
  },
  sessionFold(out) {
    const flow = new Dataflow("session");
    const evs = events(1200).filter((e) => (e.t - T0) % 37_000 < 30_000);
    const inp = flow.input("inp", new TestingSource(evs, { batchSize: 8 }))
      .pipe(keyOn("key", (e: Ev) => e.user));
    const { down } = foldWindow("sessions", inp, {
      clock: new EventClock((e: Ev) => e.t, { waitFor: 0 }),
      windower: new SessionWindower(20_000),
      builder: () => 0,
      folder: (acc: number) => acc + 1,
      merger: (a: number, b: number) => a + b,
    });
    down.output("out", new TestingSink(out));
    return flow;
  },
  joinWindow(out) {
    const flow = new Dataflow("join_window");
    const a = flow.input("a", new TestingSource(events(400), { batchSize: 3 }))
      .pipe(keyOn("ak", (e: Ev) => e.user));
    const b = flow.input("b", new TestingSource(events(400).map((e) => ({ ...e, v: -e.v }))))
      .pipe(keyOn("bk", (e: Ev) => e.user));
    // The two inputs' items of a key arrive in batches that differ with the worker count,
    // so a watermark that waits (an hour) keeps either from being late for the other.
    const { down } = joinWindow("jw", [a, b], {
      clock: new EventClock((e: Ev) => e.t, { waitFor: 3_600_000 }),
      windower: new TumblingWindower(100_000, T0),
    });
    down.pipe(map(([k, [id, [x, y]]]) => [k, [id, x?.v, y?.v]]))
      .output("out", new TestingSink(out));
    return flow;
  },
};

/** Builds the flow `name` (what every worker calls). */
export function suiteFlow(name: string, out: Out = []): Dataflow {
  const make = FLOWS[name];
  if (make === undefined) throw new RangeError(`No suite flow ${name}`);
  return make(out);
}
