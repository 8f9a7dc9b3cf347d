/**
 * filterMap: maps items and drops the empty results.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { chainStep, checkFunction } from "./_chain.ts";

/**
 * Emits `mapper(item)` unless it is `undefined` or `null` (Bytewax's `None`). Like Bytewax's
 * `filter_map`: a map and a filter in one step.
 *
 * @param stepId The step's name.
 * @param mapper Maps one item; `undefined` or `null` drops it.
 *
 * @example Parsing and dropping bad lines
 * ```ts
 * import { Dataflow, filterMap } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("filter_map_demo");
 * flow.input("inp", new TestingSource(["1", "x", "3"]))
 *   .pipe(filterMap("parse", (s) => { const n = Number(s); return Number.isNaN(n) ? undefined : n; }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [1, 3]);
 * ```
 */
export function filterMap<T, U>(
  stepId: string,
  mapper: (item: T) => U | undefined | null,
): WeirOperator<T, U> {
  checkFunction("filterMap", stepId, "a mapper", mapper);
  return chainStep<T, U>("filterMap", stepId, (_ctx, down) => (item) => {
    const out = mapper(item);
    if (out !== undefined && out !== null) down.next(out);
  });
}
