/**
 * reduceWindow: reduces each window's values, the first value being the initial accumulator.
 *
 * @module
 */
import { Stream } from "../dataflow/dataflow.ts";
import type { WindowLogic } from "./window_logic.ts";
import type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";
import {
  isStreamForm,
  windowed,
  type WindowOperator,
  type WindowUpstream,
} from "./window_forms.ts";
import { EMPTY } from "./_fold_logic.ts";

/** Options of {@linkcode reduceWindow}. */
export interface ReduceWindowOptions<V> extends WindowOptions<V> {
  /** Combines the accumulator with the next value (also used to merge sessions). */
  readonly reducer: (acc: V, value: V) => V;
}

class ReduceLogic<V> implements WindowLogic<V, V, { acc: V | undefined; has: boolean }> {
  has = false;
  acc: V | undefined = undefined;
  constructor(private readonly reducer: (acc: V, value: V) => V) {}
  onValue(value: V): Iterable<V> {
    this.acc = this.has ? this.reducer(this.acc as V, value) : value;
    this.has = true;
    return EMPTY;
  }
  onMerge(original: WindowLogic<V, V, unknown>): Iterable<V> {
    const o = original as ReduceLogic<V>;
    if (o.has) this.onValue(o.acc as V);
    return EMPTY;
  }
  onClose(): Iterable<V> {
    return this.has ? [this.acc as V] : EMPTY;
  }
  onEarly(): Iterable<V> {
    return this.onClose();
  }
  snapshot(): { acc: V | undefined; has: boolean } {
    return { acc: this.acc, has: this.has };
  }
}

/**
 * Reduces each window's values (the first value is the initial accumulator) and emits the
 * result at close. Values are applied as they arrive (`ordered` defaults to false), so the
 * reducer should be commutative. Like Bytewax's `reduce_window`.
 *
 * @example Sum per window
 * ```ts
 * import { Dataflow, EventClock, reduceWindow, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("reduce_window_demo");
 * const items: [string, [number, number]][] = [["a", [0, 1]], ["a", [4_000, 1]], ["a", [12_000, 1]]];
 * const out: unknown[] = [];
 * flow.input("inp", new TestingSource(items)).pipe(
 *   reduceWindow("sum", {
 *     clock: new EventClock((v: [number, number]) => v[0], { waitFor: 0 }),
 *     windower: new TumblingWindower(10_000, 0),
 *     reducer: (a, b) => [a[0], a[1] + b[1]],
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, [0, 2]]], ["a", [1, [12_000, 1]]]]);
 * ```
 */
export function reduceWindow<V>(
  stepId: string,
  up: WindowUpstream<V>,
  options: ReduceWindowOptions<V>,
): WindowOut<V, V>;
/** The pipeable form. */
export function reduceWindow<V>(
  stepId: string,
  options: ReduceWindowOptions<V> & PipeableWindowOptions<V>,
): WindowOperator<V, V>;
export function reduceWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ReduceWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: ReduceWindowOptions<V>,
): WindowOut<V, V> | WindowOperator<V, V> {
  isStreamForm("reduceWindow", stepId, upOrOptions, maybeOptions);
  const withDefault = <O extends WindowOptions<V>>(o: O): O => ({ ordered: false, ...o });
  const up = upOrOptions instanceof Stream ? upOrOptions : withDefault(upOrOptions);
  const opts = maybeOptions === undefined ? undefined : withDefault(maybeOptions);
  return windowed<V, V, { acc: V | undefined; has: boolean }>(stepId, up, opts, (o) => {
    const { reducer } = o as ReduceWindowOptions<V>;
    return (resume) => {
      const l = new ReduceLogic(reducer);
      if (resume !== undefined) {
        l.acc = resume.acc;
        l.has = resume.has;
      }
      return l;
    };
  });
}
