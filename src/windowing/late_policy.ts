/**
 * The `late` policy of the pipeable window operators: what happens to an item that arrived after
 * its key's watermark, applied in the step that turns the window driver's events into results.
 *
 * @module
 */
import { DataflowError } from "../errors.ts";
import { chainStep } from "../operators/_chain.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { DOWN, LATE, type WindowEvent } from "./_window_events.ts";

/** How an item that arrived after the watermark is handled by the pipeable forms. */
export type LatePolicy<V> =
  | "drop"
  | "fail"
  | ((key: string, windowId: number, value: V) => void);

/** A pipeable window operator's `late` policy must be given: late data is never lost silently. */
export function checkLatePolicy(stepId: string, late: unknown): void {
  if (late !== "drop" && late !== "fail" && typeof late !== "function") {
    throw new TypeError(
      `Window step "${stepId}" needs options.late: "drop", "fail" or a function`,
    );
  }
}

/**
 * The pipeable forms' last step (`results`): passes results on as `[key, [windowId, result]]`
 * and applies `late` to late items, in one chain step (the driver makes no META events there).
 */
export function resultsWithLatePolicy<V, W>(
  late: LatePolicy<V>,
): WeirOperator<[string, WindowEvent], [string, [number, W]]> {
  return chainStep<[string, WindowEvent], [string, [number, W]]>(
    "windowResults",
    "results",
    (ctx, down) => (item) => {
      const [key, [tag, id, payload]] = item;
      if (tag === DOWN) down.next([key, [id, payload as W]]);
      else if (tag === LATE) {
        if (late === "fail") {
          throw new DataflowError(ctx.stepId, `A late item arrived for window ${id}`, { key });
        }
        if (late !== "drop") late(key, id, payload as V);
      }
    },
  );
}
