/**
 * joinWindow: joins keyed streams by key within windows.
 *
 * @module
 */
import type { KeyedStream, Stream } from "../dataflow/dataflow.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import { mapValue } from "../operators/map_value.ts";
import {
  type JoinedValues,
  type JoinEmitMode,
  type JoinInsertMode,
  joinTuples,
} from "../operators/join.ts";
import type { ClockLogic, WindowClock } from "./clocks.ts";
import { type WindowLogic, type WindowOptions, type WindowOut, windowStreams } from "./window.ts";

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

type Tagged = readonly [side: number, value: unknown];

/** Wraps a clock so it sees the side's value rather than the `[side, value]` tag. */
function untagged(clock: WindowClock<unknown>): WindowClock<Tagged> {
  return {
    build(resume, now): ClockLogic<Tagged, unknown> {
      const inner = clock.build(resume, now);
      return {
        beforeBatch: (t) => inner.beforeBatch(t),
        onItem: (tagged) => inner.onItem(tagged[1]),
        onNotify: (t) => inner.onNotify(t),
        onEof: () => inner.onEof(),
        toSystemTime: (ts) => inner.toSystemTime(ts),
        snapshot: () => inner.snapshot(),
      };
    },
  };
}

class JoinLogic implements WindowLogic<Tagged, unknown[], unknown[][]> {
  constructor(
    public vals: unknown[][],
    private readonly insertMode: JoinInsertMode,
    private readonly emitMode: JoinEmitMode,
  ) {}

  onValue([i, v]: Tagged): Iterable<unknown[]> {
    const side = this.vals[i]!;
    if (this.insertMode === "last") this.vals[i] = [v];
    else if (this.insertMode === "product" || side.length === 0) side.push(v);
    if (this.emitMode === "running") return joinTuples(this.vals);
    if (this.emitMode === "complete" && this.vals.every((s) => s.length > 0)) {
      const out = joinTuples(this.vals);
      this.vals = this.vals.map(() => []);
      return out;
    }
    return [];
  }

  onMerge(original: WindowLogic<Tagged, unknown[], unknown[][]>): Iterable<unknown[]> {
    const other = (original as JoinLogic).vals;
    this.vals = this.vals.map((mine, i) => {
      const theirs = other[i]!;
      if (this.insertMode === "product") return [...mine, ...theirs];
      if (this.insertMode === "first") return mine.length > 0 ? mine : theirs;
      return theirs.length > 0 ? theirs : mine;
    });
    return [];
  }

  onEarly(): Iterable<unknown[]> {
    return this.vals.some((s) => s.length > 0) ? joinTuples(this.vals) : [];
  }

  onClose(): Iterable<unknown[]> {
    return this.emitMode === "final" && this.vals.some((s) => s.length > 0)
      ? joinTuples(this.vals)
      : [];
  }

  snapshot(): unknown[][] {
    return this.vals.map((s) => [...s]);
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
export function joinWindow<T extends readonly Stream<readonly [string, unknown]>[]>(
  stepId: string,
  sides: T,
  options: JoinWindowOptions,
): WindowOut<unknown, JoinedValues<T>> {
  checkStepId(stepId);
  const insertMode = options.insertMode ?? "last";
  const emitMode = options.emitMode ?? "final";
  if (!["first", "last", "product"].includes(insertMode)) {
    throw new RangeError(`joinWindow("${stepId}"): unknown join insert mode "${insertMode}"`);
  }
  if (!["complete", "final", "running"].includes(emitMode)) {
    throw new RangeError(`joinWindow("${stepId}"): unknown join emit mode "${emitMode}"`);
  }
  if (!Array.isArray(sides) || sides.length === 0) {
    throw new TypeError(`joinWindow("${stepId}") needs an array of at least one keyed stream`);
  }
  const n = sides.length;
  const flow = (sides[0] as Stream<unknown>).flow;
  return flow.composite(stepId, "joinWindow", (scope) => {
    const tagged = sides.map((side, i) =>
      scope.pipe(
        side as Stream<readonly [string, unknown]>,
        mapValue(`side_${i}`, (v: unknown): Tagged => [i, v]),
      )
    );
    const merged = scope.merge("merge", ...tagged) as KeyedStream<Tagged>;
    return windowStreams<Tagged, unknown[], unknown[][]>(
      scope,
      merged,
      { ...options, clock: untagged(options.clock) },
      (resume) =>
        new JoinLogic(
          resume?.map((s) => [...s]) ?? Array.from({ length: n }, () => []),
          insertMode,
          emitMode,
        ),
    );
  }) as unknown as WindowOut<unknown, JoinedValues<T>>;
}
