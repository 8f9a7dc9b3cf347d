/**
 * joinWindow: joins keyed streams by key within windows.
 *
 * @module
 */
import type { Stream } from "../dataflow/dataflow.ts";
import type { JoinedValues } from "../operators/join.ts";
import {
  checkJoinArgs,
  checkJoinModes,
  type JoinEmitMode,
  type JoinInsertMode,
  JoinState,
  type SideValue,
  tagAndMerge,
} from "../operators/_join_state.ts";
import type { ClockLogic, WindowClock } from "./clocks.ts";
import { windowStreams } from "./window.ts";
import type { WindowLogic } from "./window_logic.ts";
import type { WindowOptions, WindowOut } from "./window_options.ts";

/** Options of {@linkcode joinWindow}. */
export interface JoinWindowOptions extends Omit<WindowOptions<unknown>, "clock"> {
  /** The clock, seeing each side's values. */
  // deno-lint-ignore no-explicit-any
  readonly clock: WindowClock<any>;
  /** Default `"last"`. */
  readonly insertMode?: JoinInsertMode;
  /** Default `"final"`: emit when the window closes. */
  readonly emitMode?: JoinEmitMode;
}

/** Wraps a clock so it sees the side's value rather than the `[side, value]` tag. */
function untagged(clock: WindowClock<unknown>): WindowClock<SideValue> {
  return {
    build(resume, now): ClockLogic<SideValue, unknown> {
      const inner = clock.build(resume, now);
      return {
        beforeBatch: (t) => inner.beforeBatch(t),
        onItem: (tagged) => inner.onItem(tagged[1]),
        watermark: () => inner.watermark(),
        onNotify: (t) => inner.onNotify(t),
        onEof: () => inner.onEof(),
        toSystemTime: (ts) => inner.toSystemTime(ts),
        snapshot: () => inner.snapshot(),
      };
    },
  };
}

class JoinLogic implements WindowLogic<SideValue, unknown[], unknown[][]> {
  constructor(readonly state: JoinState) {}

  onValue([i, v]: SideValue): Iterable<unknown[]> {
    return this.state.insert(i, v);
  }

  onMerge(original: WindowLogic<SideValue, unknown[], unknown[][]>): Iterable<unknown[]> {
    this.state.absorb((original as JoinLogic).state);
    return [];
  }

  onEarly(): Iterable<unknown[]> {
    return this.state.tuples();
  }

  onClose(): Iterable<unknown[]> {
    return this.state.finalTuples();
  }

  snapshot(): unknown[][] {
    return this.state.snapshot();
  }
}

/**
 * Joins keyed streams by key within windows: emits `[key, [windowId, [v0, v1, …]]]` with the
 * join modes of `join` applied per window (default last/final: one tuple per window at
 * close). The clock sees each side's values; values are applied in timestamp order. Like
 * Bytewax's `join_window`.
 *
 * @example Joining clicks and views in 10-second session windows
 * ```ts
 * import { Dataflow, EventClock, joinWindow, SessionWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type E = { t: number; v: number };
 * const flow = new Dataflow("join_window_demo");
 * const left = flow.input("l", new TestingSource<[string, E]>([["k", { t: 0, v: 1 }]]));
 * const right = flow.input("r", new TestingSource<[string, E]>([["k", { t: 1_000, v: 2 }], ["k", { t: 2_000, v: 3 }]]));
 * const { down } = joinWindow("j", [left, right], {
 *   clock: new EventClock((e: E) => e.t, { waitFor: Infinity }),
 *   windower: new SessionWindower(10_000),
 * });
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["k", [0, [{ t: 0, v: 1 }, { t: 2_000, v: 3 }]]]]);
 * ```
 */
export function joinWindow<const T extends readonly Stream<readonly [string, unknown]>[]>(
  stepId: string,
  sides: T,
  options: JoinWindowOptions,
): WindowOut<unknown, JoinedValues<T>> {
  const flow = checkJoinArgs("joinWindow", stepId, sides, options);
  const insertMode = options.insertMode ?? "last";
  const emitMode = options.emitMode ?? "final";
  checkJoinModes("joinWindow", stepId, insertMode, emitMode);
  const n = sides.length;
  return flow.composite(stepId, "joinWindow", (scope) => {
    const merged = tagAndMerge(scope, sides as readonly Stream<readonly [string, unknown]>[]);
    return windowStreams<SideValue, unknown[], unknown[][]>(
      scope,
      merged,
      { ...options, clock: untagged(options.clock) },
      (resume) => new JoinLogic(new JoinState(n, insertMode, emitMode, resume)),
    );
  }) as unknown as WindowOut<unknown, JoinedValues<T>>;
}
