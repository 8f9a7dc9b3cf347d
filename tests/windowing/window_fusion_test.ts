// Which per-key logic the window driver takes: a fused path (tumbling or sessions) only when the
// clock's, the windower's and the window logic's own classes declare the capability (`_fusion.ts`);
// subclasses, wrappers and other shapes take the general path, and behave as their overrides say.
import { assert, assertEquals } from "@std/assert";
import {
  Dataflow,
  EventClock,
  type EventClockState,
  foldWindow,
  type SessionState,
  SessionWindower,
  SlidingWindower,
  SystemClock,
  TumblingWindower,
  type WindowClock,
  type WindowerLogic,
  type WindowMetadata,
} from "../../mod.ts";
import { runMain, TestClock, TestingSink, TestingSource } from "../../src/testing/mod.ts";
import type { LogicContext } from "../../src/operators/stateful_batch.ts";
import { QUIET } from "../../src/operators/_per_value_logic.ts";
import { windowLogicBuilder, type WindowOptions } from "../../src/windowing/window.ts";
import { FoldLogic } from "../../src/windowing/_fold_logic.ts";
import { SessionEventWindows } from "../../src/windowing/_session_event_windows.ts";
import { DOWN, type WindowEvent } from "../../src/windowing/_window_events.ts";

const T0 = Date.UTC(2024, 0, 1);
const S = 1_000;
type E = { t: number; v: number };
const ctx: LogicContext = { stepId: "f", key: "k", now: () => T0 };
const sum = (resume: { acc: number } | undefined) =>
  new FoldLogic(resume?.acc ?? 0, (acc: number, e: E) => acc + e.v, (a, b) => a + b);

/**
 * Whether the driver took the fused path for `options` (unordered): only the fused logic answers
 * a value into an open window, with nothing due, with `QUIET`.
 */
function fused(options: WindowOptions<E>): boolean {
  const logic = windowLogicBuilder({ ...options, ordered: false }, sum)(undefined, ctx);
  logic.onValue!({ t: T0, v: 1 });
  return logic.onValue!({ t: T0 + 1, v: 2 }) === QUIET;
}

const eventClock = () => new EventClock((e: E) => e.t, { waitFor: 0 });

Deno.test("the fused path: EventClock with TumblingWindower, or SlidingWindower with offset = length", () => {
  assertEquals(fused({ clock: eventClock(), windower: new TumblingWindower(10 * S, T0) }), true);
  assertEquals(
    fused({ clock: eventClock(), windower: new SlidingWindower(10 * S, 10 * S, T0) }),
    true,
  );
});

Deno.test("the fused session path: EventClock with SessionWindower, sequential or time ids", () => {
  for (const ids of ["sequential", "time"] as const) {
    const logic = windowLogicBuilder<E, number, { acc: number }>(
      { clock: eventClock(), windower: new SessionWindower(10 * S, { ids }) },
      sum,
    )(undefined, ctx);
    assert(logic instanceof SessionEventWindows, ids);
    assertEquals(
      fused({ clock: eventClock(), windower: new SessionWindower(10 * S, { ids }) }),
      true,
    );
  }
});

Deno.test("the general path: other windowers, other clocks, early results", () => {
  const cases: Array<[string, WindowOptions<E>]> = [
    ["sliding", { clock: eventClock(), windower: new SlidingWindower(10 * S, 5 * S, T0) }],
    ["system clock", { clock: new SystemClock<E>(), windower: new TumblingWindower(S, T0) }],
    ["sessions, system clock", {
      clock: new SystemClock<E>(),
      windower: new SessionWindower(10 * S),
    }],
    ["early", {
      clock: eventClock(),
      windower: new TumblingWindower(S, T0),
      early: { everyItems: 2 },
    }],
    ["sessions, early", {
      clock: eventClock(),
      windower: new SessionWindower(10 * S),
      early: { everyMs: S },
    }],
  ];
  for (const [name, options] of cases) assertEquals(fused(options), false, name);
});

Deno.test("subclasses and wrappers do not inherit the fused path, even without overrides", () => {
  class PlainSubclassClock<V> extends EventClock<V> {}
  class PlainSubclassWindower extends TumblingWindower {}
  class PlainSubclassSessions extends SessionWindower {}
  const wrapped = eventClock();
  const wrapper: WindowClock<E, EventClockState> = {
    build: (resume, now) => wrapped.build(resume, now),
  };
  const cases: Array<[string, WindowOptions<E>]> = [
    ["clock subclass", {
      clock: new PlainSubclassClock((e: E) => e.t, { waitFor: 0 }),
      windower: new TumblingWindower(S, T0),
    }],
    ["windower subclass", { clock: eventClock(), windower: new PlainSubclassWindower(S, T0) }],
    ["session windower subclass", {
      clock: eventClock(),
      windower: new PlainSubclassSessions(10 * S),
    }],
    ["session clock subclass", {
      clock: new PlainSubclassClock((e: E) => e.t, { waitFor: 0 }),
      windower: new SessionWindower(10 * S),
    }],
    ["wrapped clock", { clock: wrapper, windower: new TumblingWindower(S, T0) }],
  ];
  for (const [name, options] of cases) assertEquals(fused(options), false, name);
});

Deno.test("a TumblingWindower subclass's metadataFor override shapes the meta stream", async () => {
  class Labelled extends TumblingWindower {
    override metadataFor(id: number): WindowMetadata {
      const m = super.metadataFor(id);
      return { ...m, close: m.close - 1 };
    }
  }
  const flow = new Dataflow("labelled");
  const { down, meta } = foldWindow(
    "sum",
    flow.input("inp", new TestingSource<[string, E]>([["k", { t: T0, v: 1 }]])),
    {
      clock: eventClock(),
      windower: new Labelled(10 * S, T0),
      builder: () => 0,
      folder: (acc: number, e: E) => acc + e.v,
      merger: (a: number, b: number) => a + b,
    },
  );
  const out: unknown[] = [];
  const metas: unknown[] = [];
  down.output("out", new TestingSink(out));
  meta.output("meta", new TestingSink(metas));
  await runMain(flow, { clock: new TestClock({ start: T0 }) });
  assertEquals(out, [["k", [0, 1]]]);
  assertEquals(metas, [["k", [0, { open: T0, close: T0 + 10 * S - 1, merged: [] }]]]);
});

/**
 * A window logic over a sum `FoldLogic` subclass that records each value its `onValue` override
 * sees (in `seen`), with `windower` and an event clock (unordered).
 */
function watchedSum(windower: TumblingWindower | SessionWindower) {
  const seen: number[] = [];
  class Watched extends FoldLogic<E, number> {
    override onValue(e: E): Iterable<number> {
      seen.push(e.v);
      return super.onValue(e);
    }
  }
  const logic = windowLogicBuilder<E, number, { acc: number }>(
    { clock: eventClock(), windower, ordered: false },
    (resume) => new Watched(resume?.acc ?? 0, (acc, e) => acc + e.v, (a, b) => a + b),
  )(undefined, ctx);
  return { logic, seen };
}

Deno.test("a FoldLogic subclass is not folded inline: its onValue override runs on the fused path", () => {
  const { logic, seen } = watchedSum(new TumblingWindower(10 * S, T0));
  for (let i = 1; i <= 3; i++) logic.onValue!({ t: T0 + i, v: i });
  assertEquals(seen, [1, 2, 3]);
  assertEquals(logic.onEof!(), [
    [[0, 0, 6], [2, 0, { open: T0, close: T0 + 10 * S, merged: [] }]],
    true,
  ]);
});

Deno.test("a SessionWindower subclass's build override shapes the sessions (general path)", () => {
  class Wider extends SessionWindower {
    override build(resume: SessionState | undefined): WindowerLogic<SessionState> {
      return new SessionWindower(this.gap * 2).build(resume);
    }
  }
  const eof = (windower: SessionWindower) => {
    const logic = windowLogicBuilder<E, number, { acc: number }>(
      { clock: eventClock(), windower, ordered: false },
      sum,
    )(undefined, ctx);
    logic.onValue!({ t: T0, v: 1 });
    logic.onValue!({ t: T0 + 15 * S, v: 2 });
    return (logic.onEof!()[0] as WindowEvent[]).filter(([tag]) => tag === DOWN);
  };
  assertEquals(eof(new SessionWindower(10 * S)), [[DOWN, 0, 1], [DOWN, 1, 2]]);
  assertEquals(eof(new Wider(10 * S)), [[DOWN, 0, 3]]);
});

Deno.test("a FoldLogic subclass is not folded inline on the fused session path either", () => {
  const { logic, seen } = watchedSum(new SessionWindower(10 * S));
  assert(logic instanceof SessionEventWindows);
  for (let i = 1; i <= 3; i++) logic.onValue!({ t: T0 + i * S, v: i });
  assertEquals(seen, [1, 2, 3]);
  assertEquals(logic.onEof!(), [
    [[0, 0, 6], [2, 0, { open: T0 + S, close: T0 + 3 * S, merged: [] }]],
    false,
  ]);
});
