// The window driver's fused session/event-clock logic (`SessionEventWindows`) against the general
// one (`KeyWindows` with `EventClock` and `SessionWindower` objects): same events, timers and
// snapshots (each resumes the other's) on random inputs, and the same flow outputs, also across
// runs resumed from a real recovery store with the path switched between runs.
import { assert, assertEquals } from "@std/assert";
import {
  Dataflow,
  EventClock,
  foldWindow,
  SessionWindower,
  type SessionWindowerOptions,
  type Stream,
  type WindowerLogic,
} from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { TestingMarker } from "../../src/testing/testing_source.ts";
import { type LogicContext, NOTHING } from "../../src/operators/stateful_batch.ts";
import {
  type WindowBuilder,
  windowLogicBuilder,
  type WindowOptions,
} from "../../src/windowing/window.ts";
import { SessionEventWindows } from "../../src/windowing/_session_event_windows.ts";
import type { SessionState } from "../../src/windowing/windowers.ts";
import { rng } from "../_rng.ts";
import { type E, fold, S, T0, Twin } from "./_twin.ts";

/** A SessionWindower the driver does not recognise, so it takes the general path. */
class GeneralSessionWindower extends SessionWindower {
  override build(resume: SessionState | undefined): WindowerLogic<SessionState> {
    return super.build(resume);
  }
}

/** A logic that emits on every value and merge (not an inline fold), so their order shows. */
const chatty = (resume: number[] | undefined) => {
  const vs = resume === undefined ? [] : [...resume];
  return {
    onValue: (e: E) => (vs.push(e.v), [[vs.length, e.v]]),
    onMerge: (o: { snapshot(): number[] }) => {
      const other = o.snapshot();
      vs.push(...other);
      return other.length % 2 === 0 ? [] : [["merged", ...other]];
    },
    onClose: () => [[...vs]],
    snapshot: () => [...vs],
  };
};

Deno.test("fused session/event-clock logic = general logic: events, timers, snapshots, resume", () => {
  // What the random inputs reach, counted on the fused logic's events.
  let lates = 0;
  let closed = 0;
  let merged = 0;
  let discards = 0;
  let resumes = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = rng(seed);
    const gap = [0, 1 * S, 5 * S, 10 * S][seed % 4]!;
    const waitFor = [0, 2 * S, 15 * S, Infinity][Math.floor(seed / 4) % 4]!;
    const ordered = seed % 3 !== 0;
    const sessionOptions: SessionWindowerOptions = { ids: seed % 5 === 0 ? "time" : "sequential" };
    const opts = (fused: boolean): WindowOptions<E> => ({
      clock: new EventClock((e: E) => e.t, { waitFor }),
      windower: new (fused ? SessionWindower : GeneralSessionWindower)(gap, sessionOptions),
      ordered,
    });
    const builder = (seed % 2 === 0 ? fold : chatty) as WindowBuilder<E, unknown, unknown>;
    const fusedBuild = windowLogicBuilder(opts(true), builder);
    const generalBuild = windowLogicBuilder(opts(false), builder);
    let now = T0;
    const ctx: LogicContext = { stepId: "s", key: "k", now: () => now };
    // Event times wander forward through a range a few gaps wide, so sessions open, extend both
    // ways, merge (a value between two) and arrive late; times are multiples of a quarter gap,
    // so values and watermarks land exactly on the gap's and the closes' boundaries.
    let base = T0;
    const unit = Math.max(gap, S) / 4;
    const count = (events: Iterable<readonly [number, number, unknown]>) => {
      for (const [tag, , payload] of events) {
        if (tag === 1) lates++;
        if (tag === 2) {
          closed++;
          merged += (payload as { merged: number[] }).merged.length;
        }
      }
    };
    const counted = <R extends readonly [Iterable<unknown>, boolean]>(result: R): R => {
      count(result[0] as Iterable<readonly [number, number, unknown]>);
      if (result[1]) discards++;
      return result;
    };
    const twin = new Twin(seed, fusedBuild, generalBuild, ctx, counted);
    const same = twin.same.bind(twin);
    for (let step = 0; step < 80; step++) {
      const op = r();
      if (op < 0.6) {
        if (twin.fused === undefined) {
          twin.fused = fusedBuild(undefined, ctx);
          assert(twin.fused instanceof SessionEventWindows, `seed ${seed}: the fused path`);
        }
        const fused = twin.fused;
        const general = twin.general ??= generalBuild(undefined, ctx);
        const values: E[] = [];
        const n = 1 + Math.floor(r() * 5);
        for (let i = 0; i < n; i++) {
          base += unit * Math.floor(r() * 5);
          values.push({ t: base + unit * Math.floor((r() - 0.5) * 16), v: step * 10 + i });
        }
        if (r() < 0.4) {
          const a = counted(fused.onBatch(values));
          same("onBatch", a, general.onBatch(values));
          if (a[1]) twin.fused = twin.general = undefined;
        } else {
          // As the runtime does, the fused logic's onValuesEnd is not called when every value
          // was QUIET.
          const quiet = twin.onValues(values, count);
          if (quiet) {
            same("onValuesEnd after QUIET values", general.onValuesEnd!(), NOTHING);
          } else {
            const a = counted(fused.onValuesEnd!());
            same("onValuesEnd", a, general.onValuesEnd!());
            if (a[1]) twin.fused = twin.general = undefined;
          }
        }
      } else if (op < 0.85) {
        now += unit * Math.floor(r() * 12);
        twin.notify();
      } else if (twin.crossResume(() => now += unit)) {
        resumes++;
      }
      twin.check();
    }
    twin.eof();
  }
  // The inputs reach what the test is about.
  assert(lates > 1_000, `${lates} late values`);
  assert(closed > 1_000, `${closed} sessions closed`);
  assert(merged > 500, `${merged} sessions merged`);
  assert(discards > 50, `${discards} keys discarded`);
  assert(resumes > 1_000, `${resumes} cross-resumes`);
});

/**
 * Random keyed events, for sessions with a 5 s gap: each key's time moves on slowly, sometimes
 * jumps past the gap (a new session, 6 s on), and values reach back up to 6 s (late, or between two
 * sessions: a merge); maybe pauses of system time.
 */
function randomItems(seed: number, n: number, pauses = true): Array<[string, E] | TestingMarker> {
  const r = rng(seed);
  const items: Array<[string, E] | TestingMarker> = [];
  const times = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = `k${Math.floor(r() * 7)}`;
    let t = (times.get(k) ?? T0) + (r() < 0.15 ? 6 * S : Math.floor(r() * 0.5 * S));
    times.set(k, t);
    if (r() < 0.3) t -= Math.floor(r() * 6 * S);
    items.push([k, { t, v: i }]);
    if (r() < 0.01 && pauses) items.push(TestingSource.PAUSE(Math.floor(r() * S)));
  }
  return items;
}

/** A session fold to lists (down, late, meta) and its pipeable form, on the given path. */
function sessionFlow(
  items: Array<[string, E] | TestingMarker>,
  fused: boolean,
  waitFor: number,
  ordered: boolean,
) {
  const flow = new Dataflow("sessions");
  const up = flow.input("inp", new TestingSource(items, { batchSize: 13 })) as Stream<[string, E]>;
  const base = {
    clock: new EventClock((e: E) => e.t, { waitFor }),
    windower: new (fused ? SessionWindower : GeneralSessionWindower)(5 * S),
    builder: (): number[] => [],
    folder: (acc: number[], e: E) => [...acc, e.v],
    merger: (a: number[], b: number[]) => [...a, ...b],
    ordered,
  };
  // The path taken is the one asked for.
  const ctx: LogicContext = { stepId: "f", key: "k", now: () => T0 };
  const logic = windowLogicBuilder<E, number[], { acc: number[] }>(base, fold)(undefined, ctx);
  assertEquals(logic instanceof SessionEventWindows, fused);
  const { down, late, meta } = foldWindow("f", up, base);
  const out = { down: [] as unknown[], late: [] as unknown[], meta: [] as unknown[] };
  const piped: unknown[] = [];
  down.output("down", new TestingSink(out.down));
  late.output("late", new TestingSink(out.late));
  meta.output("meta", new TestingSink(out.meta));
  up.pipe(foldWindow("g", { ...base, late: "drop" })).output("piped", new TestingSink(piped));
  return { flow, out, piped };
}

Deno.test("fused and general session logics give the same flows' outputs (streams and pipeable)", async () => {
  const items = randomItems(42, 2_000);
  for (const waitFor of [0, 5 * S]) {
    for (const ordered of [true, false]) {
      const outputs: Array<ReturnType<typeof sessionFlow>["out"]> = [];
      for (const fused of [true, false]) {
        const f = sessionFlow(items, fused, waitFor, ordered);
        await runMain(f.flow, { clock: new TestClock({ start: T0 }) });
        assertEquals(f.piped, f.out.down);
        outputs.push(f.out);
      }
      const [a, b] = outputs;
      assertEquals(a, b, `waitFor ${waitFor}, ordered ${ordered}`);
      assert(a!.down.length > 100 && a!.late.length > 50, `waitFor ${waitFor}: few results`);
      // Nothing merges with waitFor 0 (a value between two sessions is late) or when ordered
      // (values are applied in timestamp order, so they only extend the last session).
      if (waitFor > 0 && !ordered) assert(merges(a!.meta) > 5, `${merges(a!.meta)} merged`);
    }
  }
});

/** How many closed sessions absorbed others. */
const merges = (meta: unknown[]) =>
  (meta as Array<[string, [number, { merged: number[] }]]>)
    .filter(([, [, m]]) => m.merged.length > 0).length;

Deno.test("runs resumed from a real store, switching path each time: the general path's outputs", async () => {
  // System time stands still (each run's clock restarts): only the items move the watermarks.
  const events = randomItems(7, 600, false);
  const clock = () => new TestClock({ start: T0, autoAdvance: false });
  const aborts = [100, 250, 251, 400, 550];
  const dir = await Deno.makeTempDir({ prefix: "weir_session_fusion_" });
  /** Runs until EOF, resuming after each ABORT, on the path `fused(run)` says. */
  const series = async (name: string, ordered: boolean, fused: (run: number) => boolean) => {
    // An ABORT marker fires once: new markers for each series.
    const items: Array<[string, E] | TestingMarker> = [];
    events.forEach((e, i) => {
      if (aborts.includes(i)) items.push(TestingSource.ABORT());
      items.push(e);
    });
    const out = { down: [] as unknown[], late: [] as unknown[], meta: [] as unknown[] };
    const piped: unknown[] = [];
    for (let run = 0;; run++) {
      const f = sessionFlow(items, fused(run), 4 * S, ordered);
      const s = await runMain(f.flow, {
        clock: clock(),
        epochInterval: 0,
        recovery: { backend: fsBackend(`${dir}/${name}_${ordered}`), create: true },
      });
      out.down.push(...f.out.down);
      out.late.push(...f.out.late);
      out.meta.push(...f.out.meta);
      piped.push(...f.piped);
      if (s.status === "eof") {
        assertEquals(run, aborts.length);
        return { out, piped };
      }
    }
  };
  try {
    for (const ordered of [false, true]) {
      const general = await series("general", ordered, () => false);
      assert(general.out.late.length > 5, `${general.out.late.length} late`);
      if (!ordered) assert(merges(general.out.meta) > 5, `${merges(general.out.meta)} merged`);
      assertEquals(await series("fused", ordered, () => true), general, `ordered ${ordered}`);
      assertEquals(await series("fused_first", ordered, (run) => run % 2 === 0), general);
      assertEquals(await series("general_first", ordered, (run) => run % 2 === 1), general);
      if (ordered) {
        // In timestamp order, each key's results do not depend on where the runs stopped.
        const whole = sessionFlow(events, true, 4 * S, ordered);
        await runMain(whole.flow, { clock: clock(), epochInterval: 0 });
        for (const k of ["down", "late", "meta"] as const) {
          assertEquals(byKey(general.out[k]), byKey(whole.out[k]), k);
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `[key, …]` items stably sorted by key: each key's items in their order. */
const byKey = (xs: unknown[]) =>
  (xs as Array<[string, unknown]>).toSorted((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
