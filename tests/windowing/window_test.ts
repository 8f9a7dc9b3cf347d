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
import {
  type WindowBuilder,
  windowLogicBuilder,
  type WindowOptions,
} from "../../src/windowing/window.ts";
import { rng } from "../_rng.ts";
import { type E, fold, S, T0, Twin } from "./_twin.ts";

/** An EventClock the driver does not recognise, so it takes the general path. */
class GeneralEventClock<V> extends EventClock<V> {
  override build(resume: EventClockState | undefined, now: number): ClockLogic<V, EventClockState> {
    return super.build(resume, now);
  }
}

const collect = (resume: number[] | undefined) => {
  const vs = resume === undefined ? [] : [...resume];
  return {
    onValue: (e: E) => (vs.push(e.v), []),
    onMerge: () => [],
    onClose: () => [[...vs]],
    snapshot: () => [...vs],
  };
};

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
    const twin = new Twin(seed, fusedBuild, generalBuild, ctx);
    const same = twin.same.bind(twin);
    let t = T0;
    for (let step = 0; step < 60; step++) {
      const op = r();
      if (op < 0.6) {
        const fused = twin.fused ??= fusedBuild(undefined, ctx);
        const general = twin.general ??= generalBuild(undefined, ctx);
        const values: E[] = [];
        const n = 1 + Math.floor(r() * 4);
        for (let i = 0; i < n; i++) {
          t += Math.floor((r() - 0.3) * 4 * S);
          values.push({ t, v: step * 10 + i });
        }
        if (r() < 0.5) {
          same("onBatch", fused.onBatch(values), general.onBatch(values));
        } else {
          const quiet = twin.onValues(values);
          const a = fused.onValuesEnd!();
          same("onValuesEnd", a, general.onValuesEnd!());
          if (quiet) same("onValuesEnd after QUIET values", a, NOTHING);
          if (a[1]) twin.fused = twin.general = undefined;
        }
      } else if (op < 0.85) {
        now += Math.floor(r() * 8 * S);
        twin.notify();
      } else {
        twin.crossResume(() => now += 1);
      }
      twin.check();
    }
    twin.eof();
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
