/**
 * inspect and inspectDebug: look at items without changing them.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { chainStep, checkFunction } from "./_chain.ts";

/** Called by {@linkcode inspect} with the fully qualified step id and each item. */
export type Inspector<T> = (stepId: string, item: T) => void;

/** Called by {@linkcode inspectDebug} with the step id, item, epoch and worker index. */
export type DebugInspector<T> = (
  stepId: string,
  item: T,
  epoch: number,
  workerIndex: number,
) => void;

/**
 * Calls `inspector(stepId, item)` for each item and passes the item on unchanged. The default
 * inspector prints `<flow.step>: <item>`. Counts as an output: a flow whose only "output" is
 * an inspect step is valid. Like Bytewax's `inspect`.
 *
 * @param stepId The step's name.
 * @param inspector Receives the fully qualified step id and the item.
 *
 * @example
 * ```ts
 * import { Dataflow, inspect } from "@weir/weir";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const seen: [string, string][] = [];
 * const flow = new Dataflow("test_df");
 * flow.input("inp", new TestingSource(["a"]))
 *   .pipe(inspect("insp", (id, item) => seen.push([id, item])));
 * await runMain(flow);
 * assertEquals(seen, [["test_df.insp", "a"]]);
 * ```
 */
export function inspect<T>(
  stepId: string,
  inspector: Inspector<T> = (id, item) => console.log(`${id}:`, item),
): WeirOperator<T, T> {
  checkFunction("inspect", stepId, "an inspector", inspector);
  return chainStep<T, T>("inspect", stepId, (ctx, down) => (item) => {
    inspector(ctx.stepId, item);
    down.next(item);
  }, { isOutput: true });
}

/**
 * Like {@linkcode inspect}, and also tells the epoch and the worker: the default prints
 * `<flow.step> W<worker> @<epoch>: <item>`. Like Bytewax's `inspect_debug`.
 *
 * @param stepId The step's name.
 * @param inspector Receives the step id, item, epoch and worker index.
 *
 * @example
 * ```ts
 * import { Dataflow, inspectDebug } from "@weir/weir";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const seen: unknown[] = [];
 * const flow = new Dataflow("test_df");
 * flow.input("inp", new TestingSource(["a"]))
 *   .pipe(inspectDebug("insp", (id, item, epoch, worker) => seen.push([id, item, epoch, worker])));
 * await runMain(flow);
 * assertEquals(seen, [["test_df.insp", "a", 1, 0]]);
 * ```
 */
export function inspectDebug<T>(
  stepId: string,
  inspector: DebugInspector<T> = (id, item, epoch, worker) =>
    console.log(`${id} W${worker} @${epoch}:`, item),
): WeirOperator<T, T> {
  checkFunction("inspectDebug", stepId, "an inspector", inspector);
  return chainStep<T, T>("inspectDebug", stepId, (ctx, down) => (item) => {
    inspector(ctx.stepId, item, ctx.epoch(), ctx.workerIndex);
    down.next(item);
  }, { isOutput: true });
}
