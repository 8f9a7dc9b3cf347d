/**
 * maxWindow and minWindow: each window's largest or smallest value, as a `reduceWindow`.
 *
 * @module
 */
import { Stream } from "../dataflow/dataflow.ts";
import type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";
import { isStreamForm, type WindowOperator, type WindowUpstream } from "./window_forms.ts";
import { reduceWindow } from "./reduce_window.ts";

/** Options of {@linkcode maxWindow} and {@linkcode minWindow}. */
export interface ExtremeWindowOptions<V> extends WindowOptions<V> {
  /** What to compare (default: the value itself). */
  readonly by?: (value: V) => number | string | bigint;
}

/**
 * Emits each window's largest value (compared by `by`) at close. Like Bytewax's `max_window`,
 * including ties: values are applied as they arrive (`ordered` defaults to false), so among
 * equal values the first to arrive wins, whatever its timestamp. With `ordered: true` values
 * are applied in timestamp order once the watermark passes them, and the earliest wins.
 *
 * @example
 * ```ts
 * import { Dataflow, EventClock, maxWindow, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("max_window_demo");
 * const out: unknown[] = [];
 * flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["a", 9], ["a", 3]])).pipe(
 *   maxWindow("max", {
 *     clock: new EventClock((v: number) => v, { waitFor: 10_000 }), // values double as timestamps
 *     windower: new TumblingWindower(1_000, 0),
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 9]]]);
 * ```
 */
export function maxWindow<V>(
  stepId: string,
  up: WindowUpstream<V>,
  options: ExtremeWindowOptions<V>,
): WindowOut<V, V>;
/** The pipeable form. */
export function maxWindow<V>(
  stepId: string,
  options: ExtremeWindowOptions<V> & PipeableWindowOptions<V>,
): WindowOperator<V, V>;
export function maxWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ExtremeWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: ExtremeWindowOptions<V>,
): WindowOut<V, V> | WindowOperator<V, V> {
  isStreamForm("maxWindow", stepId, upOrOptions, maybeOptions);
  return extreme(stepId, upOrOptions, maybeOptions, 1);
}

/**
 * Emits each window's smallest value (compared by `by`) at close. Like Bytewax's `min_window`,
 * including ties: values are applied as they arrive (`ordered` defaults to false), so among
 * equal values the first to arrive wins, whatever its timestamp. With `ordered: true` values
 * are applied in timestamp order once the watermark passes them, and the earliest wins.
 *
 * @example
 * ```ts
 * import { Dataflow, EventClock, minWindow, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("min_window_demo");
 * const out: unknown[] = [];
 * flow.input("inp", new TestingSource<[string, number]>([["a", 4], ["a", 2], ["a", 3]])).pipe(
 *   minWindow("min", {
 *     clock: new EventClock((v: number) => v, { waitFor: 10_000 }),
 *     windower: new TumblingWindower(1_000, 0),
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 2]]]);
 * ```
 */
export function minWindow<V>(
  stepId: string,
  up: WindowUpstream<V>,
  options: ExtremeWindowOptions<V>,
): WindowOut<V, V>;
/** The pipeable form. */
export function minWindow<V>(
  stepId: string,
  options: ExtremeWindowOptions<V> & PipeableWindowOptions<V>,
): WindowOperator<V, V>;
export function minWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ExtremeWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: ExtremeWindowOptions<V>,
): WindowOut<V, V> | WindowOperator<V, V> {
  isStreamForm("minWindow", stepId, upOrOptions, maybeOptions);
  return extreme(stepId, upOrOptions, maybeOptions, -1);
}

function extreme<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ExtremeWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions: ExtremeWindowOptions<V> | undefined,
  sign: 1 | -1,
): WindowOut<V, V> | WindowOperator<V, V> {
  const opts = (upOrOptions instanceof Stream ? maybeOptions : upOrOptions) as ExtremeWindowOptions<
    V
  >;
  const by = opts.by ?? ((v: V) => v as unknown as number);
  // Keeps the accumulator unless the new value is strictly greater (smaller): among ties the
  // value applied first wins, which is the first to arrive unless `ordered` is set.
  const reducer = (a: V, b: V) => (sign > 0 ? (by(b) > by(a) ? b : a) : (by(b) < by(a) ? b : a));
  return upOrOptions instanceof Stream
    ? reduceWindow(stepId, upOrOptions, { ...opts, reducer })
    : reduceWindow(stepId, { ...(upOrOptions as PipeableWindowOptions<V>), reducer });
}
