/**
 * mapValue: maps the value of keyed items.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { callForKey, chainStep, checkFunction, isKeyedPair, notKeyedError } from "./_chain.ts";

/**
 * Emits `[key, mapper(value)]` for each `[key, value]` pair; the key is unchanged. Like
 * Bytewax's `map_value`.
 *
 * @param stepId The step's name.
 * @param mapper Maps one value.
 *
 * @example
 * ```ts
 * import { Dataflow, mapValue } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("map_value_demo");
 * flow.input("inp", new TestingSource<[string, number]>([["ALL", 0], ["ALL", 1]]))
 *   .pipe(mapValue("inc", (v) => v + 1))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ALL", 1], ["ALL", 2]]);
 * ```
 */
export function mapValue<V, W>(
  stepId: string,
  mapper: (value: V) => W,
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("mapValue", stepId, "a mapper", mapper);
  return chainStep<readonly [string, V], [string, W]>("mapValue", stepId, (ctx, down) => (item) => {
    if (!isKeyedPair(item)) throw notKeyedError(ctx.stepId, item);
    down.next([item[0], callForKey(ctx.stepId, item[0], mapper, item[1] as V)]);
  });
}
