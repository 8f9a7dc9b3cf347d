/**
 * filterValue: keeps keyed items whose value passes a predicate.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { callForKey, chainStep, checkFunction, isKeyedPair, notKeyedError } from "./_chain.ts";

/**
 * Keeps the `[key, value]` pairs for which `predicate(value)` returns `true`. Like Bytewax's
 * `filter_value`, the predicate must return a boolean; anything else fails the run.
 *
 * @param stepId The step's name.
 * @param predicate Decides on one value.
 *
 * @example
 * ```ts
 * import { Dataflow, filterValue } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("filter_value_demo");
 * flow.input("inp", new TestingSource<[string, number]>([["ALL", 1], ["ALL", 2], ["ALL", 3]]))
 *   .pipe(filterValue("odd", (v) => v % 2 === 1))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ALL", 1], ["ALL", 3]]);
 * ```
 */
export function filterValue<V>(
  stepId: string,
  predicate: (value: V) => boolean,
): WeirOperator<readonly [string, V], [string, V]> {
  checkFunction("filterValue", stepId, "a predicate", predicate);
  return chainStep<readonly [string, V], [string, V]>(
    "filterValue",
    stepId,
    (ctx, down) => (item) => {
      if (!isKeyedPair(item)) throw notKeyedError(ctx.stepId, item);
      const keep = callForKey(ctx.stepId, item[0], predicate, item[1] as V);
      if (keep === true) down.next(item as [string, V]);
      else if (keep !== false) {
        throw new DataflowError(
          ctx.stepId,
          `Predicate must return a boolean, got ${keep === null ? "null" : typeof keep}`,
          { key: item[0], cause: new TypeError(`Predicate returned ${String(keep)}`) },
        );
      }
    },
  );
}
