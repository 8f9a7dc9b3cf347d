/**
 * countWindow: counts the items of an unkeyed stream per key and window.
 *
 * @module
 */
import type { Stream } from "../dataflow/dataflow.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { checkStepId, describeType } from "../dataflow/step_id.ts";
import { checkStream } from "../operators/_check_stream.ts";
import { keyOn } from "../operators/key_on.ts";
import { step } from "../operators/step.ts";
import { window, windowStreams } from "./window.ts";
import { checkLatePolicy } from "./late_policy.ts";
import type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";
import { isStreamForm } from "./window_forms.ts";
import { FoldLogic } from "./_fold_logic.ts";

/** Options of {@linkcode countWindow}. */
export interface CountWindowOptions<T> extends WindowOptions<T> {
  /** The key of an item (the upstream is not keyed). */
  readonly keyFn: (item: T) => string;
}

/**
 * Counts the items of an unkeyed stream per key (`keyFn`) and window, emitting `[key,
 * [windowId, count]]` at close. The clock sees the items. Like Bytewax's `count_window`.
 *
 * Given the upstream stream it returns `{ down, late, meta, early }`; given only options (with
 * `late`) it is pipeable on the unkeyed stream and returns the counts, like the other window
 * operators' pipeable forms. Its substeps are then `key` (keyOn) and `count` (the window).
 *
 * @example Counting logins per user and 10-second window
 * ```ts
 * import { countWindow, Dataflow, EventClock, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type E = { user: string; t: number };
 * const evs: E[] = [{ user: "a", t: 0 }, { user: "a", t: 4_000 }, { user: "b", t: 8_000 }, { user: "a", t: 12_000 }];
 * const flow = new Dataflow("count_window_demo");
 * const { down } = countWindow("count", flow.input("inp", new TestingSource(evs)), {
 *   clock: new EventClock((e: E) => e.t, { waitFor: 0 }),
 *   windower: new TumblingWindower(10_000, 0),
 *   keyFn: (e) => e.user,
 * });
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 2]], ["a", [1, 1]], ["b", [0, 1]]]);
 * ```
 *
 * @example Inside pipe
 * ```ts
 * import { countWindow, Dataflow, EventClock, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type E = { user: string; t: number };
 * const evs: E[] = [{ user: "a", t: 0 }, { user: "b", t: 4_000 }, { user: "a", t: 12_000 }];
 * const flow = new Dataflow("count_pipe_demo");
 * const out: [string, [number, number]][] = [];
 * flow.input("inp", new TestingSource(evs))
 *   .pipe(countWindow("count", {
 *     clock: new EventClock((e: E) => e.t, { waitFor: 0 }),
 *     windower: new TumblingWindower(10_000, 0),
 *     keyFn: (e) => e.user,
 *     late: "drop",
 *   }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 1]], ["a", [1, 1]], ["b", [0, 1]]]);
 * ```
 */
export function countWindow<T>(
  stepId: string,
  up: Stream<T>,
  options: CountWindowOptions<T>,
): WindowOut<T, number>;
/** The pipeable form: takes the unkeyed items, emits `[key, [windowId, count]]`. */
export function countWindow<T>(
  stepId: string,
  options: CountWindowOptions<T> & PipeableWindowOptions<T>,
): WeirOperator<T, [string, [number, number]]>;
export function countWindow<T>(
  stepId: string,
  upOrOptions: Stream<T> | (CountWindowOptions<T> & PipeableWindowOptions<T>),
  maybeOptions?: CountWindowOptions<T>,
): WindowOut<T, number> | WeirOperator<T, [string, [number, number]]> {
  const count = (resume: { acc: number } | undefined) =>
    new FoldLogic(resume?.acc ?? 0, (n: number) => n + 1, (a: number, b: number) => a + b);
  if (!isStreamForm("countWindow", stepId, upOrOptions, maybeOptions)) {
    checkStepId(stepId);
    const options = upOrOptions as CountWindowOptions<T> & PipeableWindowOptions<T>;
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `countWindow("${stepId}"): options must be an options object, got ${describeType(options)}`,
      );
    }
    checkLatePolicy(stepId, options.late);
    return step(
      stepId,
      keyOn("key", options.keyFn),
      window("count", { ordered: false, ...options }, count),
    );
  }
  const up = upOrOptions as Stream<T>;
  const options = maybeOptions!;
  checkStream("countWindow", stepId, "up", up);
  return up.flow.composite(
    stepId,
    "countWindow",
    (scope) =>
      windowStreams<T, number, { acc: number }>(
        scope,
        scope.pipe(up, keyOn("key", options.keyFn)),
        { ordered: false, ...options },
        count,
      ),
  );
}
