/**
 * foldWindow: folds each window's values into an accumulator.
 *
 * @module
 */
import type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";
import {
  isStreamForm,
  windowed,
  type WindowOperator,
  type WindowUpstream,
} from "./window_forms.ts";
import { FoldLogic } from "./_fold_logic.ts";

/** Options of {@linkcode foldWindow}. */
export interface FoldWindowOptions<V, A> extends WindowOptions<V> {
  /** A window's initial accumulator. */
  readonly builder: () => A;
  /** Folds a value into a window's accumulator. */
  readonly folder: (acc: A, value: V) => A;
  /** Combines two accumulators when session windows merge (earlier window first). */
  readonly merger: (acc: A, other: A) => A;
  /** Copies an accumulator for early results, when the folder mutates it (default: none). */
  readonly copy?: (acc: A) => A;
}

/**
 * Folds each window's values into an accumulator and emits it when the window closes: `[key,
 * [windowId, acc]]`. Sessions that merge combine their accumulators with `merger`. Like
 * Bytewax's `fold_window`.
 *
 * @example Counting event types per 10-second window
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { EventClock, foldWindow, TumblingWindower } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * type Ev = { type: string; t: number };
 * const events: [string, Ev][] = [["u", { type: "login", t: 0 }], ["u", { type: "post", t: 4_000 }], ["u", { type: "post", t: 16_000 }]];
 * const flow = new Dataflow("fold_window_demo");
 * const { down } = foldWindow("counts", flow.input("inp", new TestingSource(events)), {
 *   clock: new EventClock((e: Ev) => e.t, { waitFor: 0 }),
 *   windower: new TumblingWindower(10_000, 0),
 *   builder: (): Record<string, number> => ({}),
 *   folder: (acc, e) => ({ ...acc, [e.type]: (acc[e.type] ?? 0) + 1 }),
 *   merger: (a, b) => ({ ...a, ...b }),
 * });
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["u", [0, { login: 1, post: 1 }]], ["u", [1, { post: 1 }]]]);
 * ```
 */
export function foldWindow<V, A>(
  stepId: string,
  up: WindowUpstream<V>,
  options: FoldWindowOptions<V, A>,
): WindowOut<V, A>;
/** The pipeable form. */
export function foldWindow<V, A>(
  stepId: string,
  options: FoldWindowOptions<V, A> & PipeableWindowOptions<V>,
): WindowOperator<V, A>;
export function foldWindow<V, A>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (FoldWindowOptions<V, A> & PipeableWindowOptions<V>),
  maybeOptions?: FoldWindowOptions<V, A>,
): WindowOut<V, A> | WindowOperator<V, A> {
  isStreamForm("foldWindow", stepId, upOrOptions, maybeOptions);
  return windowed<V, A, { acc: A }>(stepId, upOrOptions, maybeOptions, (o) => {
    const { builder, folder, merger, copy } = o as FoldWindowOptions<V, A>;
    return (resume) =>
      new FoldLogic(resume === undefined ? builder() : resume.acc, folder, merger, copy);
  });
}
