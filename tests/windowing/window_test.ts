// The window driver's fused tumbling/event-clock logic against the general one: same events,
// same timers, same snapshots (which resume either logic), on random inputs.
import { assertEquals } from "@std/assert";
import {
  type ClockLogic,
  Dataflow,
  EventClock,
  type EventClockState,
  foldWindow,
  type Stream,
  TumblingWindower,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import { type LogicContext, NOTHING } from "../../src/operators/stateful_batch.ts";
import { type PerValueLogic, QUIET } from "../../src/operators/_per_value_logic.ts";
import {
  type WindowBuilder,
  windowLogicBuilder,
  type WindowOptions,
} from "../../src/windowing/window.ts";
import { FoldLogic } from "../../src/windowing/_fold_logic.ts";

const T0 = Date.UTC(2024, 0, 1);
const S = 1_000;
type E = { t: number; v: number };

/** An EventClock the driver does not recognise, so it takes the general path. */
class GeneralEventClock<V> extends EventClock<V> {
  override build(resume: EventClockState | undefined, now: number): ClockLogic<V, EventClockState> {
    return super.build(resume, now);
  }
}

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** foldWindow's logic (the fused path folds its current window inline). */
const fold: WindowBuilder<E, number[], { acc: number[] }> = (resume) =>
  new FoldLogic(resume?.acc ?? [], (acc: number[], e: E) => [...acc, e.v], (a, b) => [...a, ...b]);

const collect = (resume: number[] | undefined) => {
  const vs = resume === undefined ? [] : [...resume];
  return {
    onValue: (e: E) => (vs.push(e.v), []),
    onMerge: () => [],
    onClose: () => [[...vs]],
    snapshot: () => [...vs],
  };
};

// deno-lint-ignore no-explicit-any
type Logic = PerValueLogic<E, any, any>;

Deno.test("fused tumbling/event-clock logic = general logic: events, timers, snapshots, resume", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed);
    const waitFor = [0, 2 * S, 15 * S, Infinity][seed % 4]!;
    const ordered = seed % 3 !== 0;
    const length = [1 * S, 10 * S][seed % 2]!;
    const alignTo = T0 + Math.floor(r() * 5 * S);
    const opts = (fused: boolean): WindowOptions<E> => ({
      clock: new (fused ? EventClock : GeneralEventClock)((e: E) => e.t, { waitFor }),
      windower: new TumblingWindower(length, alignTo),
      ordered,
    });
    const builder = (seed % 5 < 2 ? fold : collect) as WindowBuilder<E, number[], unknown>;
    const fusedBuild = windowLogicBuilder(opts(true), builder);
    const generalBuild = windowLogicBuilder(opts(false), builder);
    let now = T0;
    const ctx: LogicContext = { stepId: "s", key: "k", now: () => now };
    let fused: Logic | undefined;
    let general: Logic | undefined;
    let t = T0;
    const same = (what: string, a: unknown, b: unknown) =>
      assertEquals(a, b, `seed ${seed}, ${what}`);
    for (let step = 0; step < 60; step++) {
      const op = r();
      if (op < 0.6) {
        fused ??= fusedBuild(undefined, ctx);
        general ??= generalBuild(undefined, ctx);
        const values: E[] = [];
        const n = 1 + Math.floor(r() * 4);
        for (let i = 0; i < n; i++) {
          t += Math.floor((r() - 0.3) * 4 * S);
          values.push({ t, v: step * 10 + i });
        }
        if (r() < 0.5) {
          same("onBatch", fused.onBatch(values), general.onBatch(values));
        } else {
          // QUIET ("nothing at the end either") is the fused logic's undefined.
          let quiet = true;
          for (const v of values) {
            const out = fused.onValue!(v);
            quiet &&= out === QUIET;
            same("onValue", out === QUIET ? undefined : out, general.onValue!(v));
          }
          const a = fused.onValuesEnd!();
          same("onValuesEnd", a, general.onValuesEnd!());
          if (quiet) same("onValuesEnd after QUIET values", a, NOTHING);
          if (a[1]) fused = general = undefined;
        }
      } else if (op < 0.85) {
        now += Math.floor(r() * 8 * S);
        if (fused === undefined || general === undefined) continue;
        same("notifyAt", fused.notifyAt!(), general.notifyAt!());
        const a = fused.onNotify!();
        same("onNotify", a, general.onNotify!());
        if (a[1]) fused = general = undefined;
      } else if (fused !== undefined && general !== undefined) {
        // Snapshot both, then resume each from the other's (structured-cloned) snapshot.
        const fs = structuredClone(fused.snapshot());
        const gs = structuredClone(general.snapshot());
        same("snapshot", fs, gs);
        now += 1;
        fused = fusedBuild(gs, ctx);
        general = generalBuild(fs, ctx);
      }
      if (fused !== undefined && general !== undefined) {
        same("notifyAt", fused.notifyAt!(), general.notifyAt!());
        same("snapshot", fused.snapshot(), general.snapshot());
      }
    }
    if (fused !== undefined && general !== undefined) {
      same("onEof", fused.onEof!(), general.onEof!());
    }
  }
});

Deno.test("fused and general window logics give the same flows' outputs (streams and pipeable)", async () => {
  const r = rng(42);
  const items: Array<[string, E] | ReturnType<typeof TestingSource.PAUSE>> = [];
  let t = T0;
  for (let i = 0; i < 2_000; i++) {
    t += Math.floor((r() - 0.2) * 3 * S);
    items.push([`k${Math.floor(r() * 7)}`, { t, v: i }]);
    if (r() < 0.02) items.push(TestingSource.PAUSE(Math.floor(r() * 30 * S)));
  }
  for (const waitFor of [0, 5 * S]) {
    for (const ordered of [true, false]) {
      const outputs: unknown[] = [];
      for (const Clock of [EventClock, GeneralEventClock]) {
        const flow = new Dataflow("test_df");
        const up = flow.input("inp", new TestingSource(items, { batchSize: 13 })) as Stream<
          [string, E]
        >;
        const base = {
          clock: new Clock((e: E) => e.t, { waitFor }),
          windower: new TumblingWindower(10 * S, T0),
          builder: (): number[] => [],
          folder: (acc: number[], e: E) => [...acc, e.v],
          merger: (a: number[], b: number[]) => [...a, ...b],
          ordered,
        };
        const { down, late, meta } = foldWindow("f", up, base);
        const d: unknown[] = [];
        const l: unknown[] = [];
        const m: unknown[] = [];
        const p: unknown[] = [];
        const pl: unknown[] = [];
        down.output("down", new TestingSink(d));
        late.output("late", new TestingSink(l));
        meta.output("meta", new TestingSink(m));
        up.pipe(foldWindow("g", { ...base, late: (k, id, e) => pl.push([k, id, e]) }))
          .output("piped", new TestingSink(p));
        await runMain(flow, { clock: new TestClock({ start: T0 }) });
        assertEquals(p, d);
        assertEquals(pl, (l as [string, [number, E]][]).map(([k, [id, e]]) => [k, id, e]));
        outputs.push([d, l, m]);
      }
      assertEquals(outputs[0], outputs[1], `waitFor ${waitFor}, ordered ${ordered}`);
    }
  }
});
