/**
 * filterMapValue: maps keyed values and drops the empty results.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { callForKey, chainStep, checkFunction, isKeyedPair, notKeyedError } from "./_chain.ts";

/**
 * For each `[key, value]`, emits `[key, mapper(value)]` unless the result is `undefined` or
 * `null`. Like Bytewax's `filter_map_value`.
 *
 * @param stepId The step's name.
 * @param mapper Maps one value; `undefined` or `null` drops the item.
 *
 * @example
 * ```ts
 * import { Dataflow, filterMapValue } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("filter_map_value_demo");
 * flow.input("inp", new TestingSource<[string, number]>([["ALL", 0], ["ALL", 1], ["ALL", 2]]))
 *   .pipe(filterMapValue("even_plus_one", (v) => v % 2 === 0 ? v + 1 : undefined))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ALL", 1], ["ALL", 3]]);
 * ```
 */
export function filterMapValue<V, W>(
  stepId: string,
  mapper: (value: V) => W | undefined | null,
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("filterMapValue", stepId, "a mapper", mapper);
  return chainStep<readonly [string, V], [string, W]>(
    "filterMapValue",
    stepId,
    (ctx, down) => (item) => {
      if (!isKeyedPair(item)) throw notKeyedError(ctx.stepId, item);
      const out = callForKey(ctx.stepId, item[0], mapper, item[1] as V);
      if (out !== undefined && out !== null) down.next([item[0], out]);
    },
  );
}
