/**
 * The generic window operator, `window`, and `windowStreams`: every window operator is one of
 * these over the window driver (`_window_driver.ts`).
 *
 * @module
 */
import { type KeyedStream, type Scope, Stream } from "../dataflow/dataflow.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { filterMap } from "../operators/filter_map.ts";
import { checkStream } from "../operators/_check_stream.ts";
import { step } from "../operators/step.ts";
import type { WindowMetadata } from "./windowers.ts";
import type { WindowBuilder } from "./window_logic.ts";
import {
  checkWindowOptions,
  type PipeableWindowOptions,
  type WindowOptions,
  type WindowOut,
} from "./window_options.ts";
import { checkLatePolicy, resultsWithLatePolicy } from "./late_policy.ts";
import { windowDriver } from "./_window_driver.ts";
import { DOWN, EARLY, LATE, META, type WindowEvent } from "./_window_events.ts";

export type { WindowBuilder, WindowLogic } from "./window_logic.ts";
export type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";
export type { LatePolicy } from "./late_policy.ts";
// For tests (not re-exported by mod.ts).
export { windowLogicBuilder } from "./_window_driver.ts";

function pick<T>(tag: 0 | 1 | 2 | 3) {
  return (item: [string, WindowEvent]): [string, [number, T]] | undefined =>
    item[1][0] === tag ? [item[0], [item[1][1], item[1][2] as T]] : undefined;
}

/**
 * The generic window operator: per key, a clock assigns timestamps and a watermark, a
 * windower assigns windows, and one {@linkcode WindowLogic} per window (from `builder`)
 * turns the window's values into results. Like Bytewax's `window`:
 *
 * 1. Each value gets a timestamp and the key's watermark from the clock; a value strictly
 *    before the watermark is late and goes to `late` with the ids it would have had.
 * 2. On-time values are applied — in timestamp order once the watermark passes them when
 *    `ordered` (the default), at once otherwise — to every window the windower assigns.
 * 3. Merged windows (sessions) are combined with `onMerge`.
 * 4. Windows the watermark passed close: their `onClose` results go to `down`, then their
 *    metadata to `meta`. Timers wake the key at the next close; EOF closes every window.
 * 5. A key with no open window and nothing queued frees its state.
 *
 * Given the upstream stream, returns `{ down, late, meta, early }`; given only options, it is
 * pipeable and returns the results, handling late items as `options.late` says.
 *
 * @param stepId The step's name.
 * @param up The keyed stream to window.
 * @param options Clock, windower, ordering, early results, state TTL.
 * @param builder Builds a window's logic, from its snapshot on resume.
 *
 * @example The first and last value of each 10-second window
 * ```ts
 * import { Dataflow, EventClock, TumblingWindower, window } from "@weir/weir";
 * import { runMain, TestClock, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type R = { t: number; v: string };
 * const rs: [string, R][] = [{ t: 1_000, v: "a" }, { t: 5_000, v: "b" }, { t: 12_000, v: "c" }]
 *   .map((r) => ["k", r]);
 * const flow = new Dataflow("window_demo");
 * const { down, meta } = window("ends", flow.input("inp", new TestingSource(rs)), {
 *   clock: new EventClock((r: R) => r.t, { waitFor: 0 }),
 *   windower: new TumblingWindower(10_000, 0),
 * }, () => {
 *   let first: string | undefined;
 *   let last: string | undefined;
 *   return {
 *     onValue: (r: R) => ((first ??= r.v), (last = r.v), []),
 *     onMerge: () => [],
 *     onClose: () => [`${first}..${last}`],
 *     snapshot: () => [first, last],
 *   };
 * });
 * const out: unknown[] = [];
 * const ends: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * meta.output("meta", new TestingSink(ends));
 * await runMain(flow, { clock: new TestClock() });
 * assertEquals(out, [["k", [0, "a..b"]], ["k", [1, "c..c"]]]);
 * assertEquals(ends, [["k", [0, { open: 0, close: 10_000, merged: [] }]], ["k", [1, { open: 10_000, close: 20_000, merged: [] }]]]);
 * ```
 */
export function window<V, W, S>(
  stepId: string,
  up: KeyedStream<V> | Stream<readonly [string, V]>,
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
): WindowOut<V, W>;
/** The pipeable form: results only; late items handled by `options.late`. */
export function window<V, W, S>(
  stepId: string,
  options: PipeableWindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
): WeirOperator<readonly [string, V], [string, [number, W]]>;
export function window<V, W, S>(
  stepId: string,
  upOrOptions: KeyedStream<V> | Stream<readonly [string, V]> | PipeableWindowOptions<V>,
  optionsOrBuilder: WindowOptions<V> | WindowBuilder<V, W, S>,
  maybeBuilder?: WindowBuilder<V, W, S>,
): WindowOut<V, W> | WeirOperator<readonly [string, V], [string, [number, W]]> {
  checkStepId(stepId);
  if (maybeBuilder !== undefined) checkStream("window", stepId, "up", upOrOptions);
  if (upOrOptions instanceof Stream) {
    const up = upOrOptions as Stream<readonly [string, V]>;
    const options = optionsOrBuilder as WindowOptions<V>;
    const builder = maybeBuilder!;
    checkWindowOptions(stepId, options);
    return up.flow.composite(
      stepId,
      "window",
      (scope) => windowStreams(scope, up, options, builder),
    );
  }
  const options = upOrOptions as PipeableWindowOptions<V>;
  const builder = optionsOrBuilder as WindowBuilder<V, W, S>;
  checkWindowOptions(stepId, options);
  checkLatePolicy(stepId, options.late);
  return step(
    stepId,
    windowDriver<V, W, S>("windows", options, builder, false),
    resultsWithLatePolicy<V, W>(options.late),
  ) as WeirOperator<readonly [string, V], [string, [number, W]]>;
}

/**
 * Builds a window operator's substeps in `scope`: the driver (`windows`) and its outputs
 * (`down`, `late`, `meta`, `early`). For composite operators that window an intermediate
 * stream, as `countWindow` does after keying.
 *
 * @example Keying and windowing in one named step
 * ```ts
 * import { Dataflow, keyOn, SystemClock, TumblingWindower, windowStreams } from "@weir/weir";
 * import { runMain, TestClock, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("streams_demo");
 * const words = flow.input("inp", new TestingSource(["a", "b", "a"]));
 * const { down } = flow.composite("per_word", "perWord", (scope) =>
 *   windowStreams(scope, scope.pipe(words, keyOn("key", (w: string) => w)), {
 *     clock: new SystemClock<string>(),
 *     windower: new TumblingWindower(60_000, 0),
 *   }, () => {
 *     let n = 0;
 *     return { onValue: () => (n++, []), onMerge: () => [], onClose: () => [n], snapshot: () => n };
 *   }));
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow, { clock: new TestClock() });
 * assertEquals(out, [["a", [0, 2]], ["b", [0, 1]]]);
 * ```
 */
export function windowStreams<V, W, S>(
  scope: Scope,
  up: Stream<readonly [string, V]>,
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
): WindowOut<V, W> {
  checkStream("windowStreams", scope.id, "up", up);
  checkWindowOptions(scope.id, options);
  const events = scope.pipe(up, windowDriver<V, W, S>("windows", options, builder));
  return {
    down: scope.pipe(events, filterMap("down", pick<W>(DOWN))),
    late: scope.pipe(events, filterMap("late", pick<V>(LATE))),
    meta: scope.pipe(events, filterMap("meta", pick<WindowMetadata>(META))),
    early: scope.pipe(events, filterMap("early", pick<W>(EARLY))),
  };
}
