/**
 * flatten: emits the elements of iterable items.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { chainStep, isIterable } from "./_chain.ts";
import { notIterable } from "./flat_map.ts";

/**
 * Emits every element of each upstream item, which must be iterable (an empty one emits
 * nothing). Like Bytewax's `flatten`; a non-iterable item fails the run.
 *
 * @param stepId The step's name.
 *
 * @example
 * ```ts
 * import { Dataflow, flatten } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("flatten_demo");
 * flow.input("inp", new TestingSource<number[]>([[1, 2], [], [3]]))
 *   .pipe(flatten("flat"))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [1, 2, 3]);
 * ```
 */
export function flatten<T>(stepId: string): WeirOperator<Iterable<T>, T> {
  return chainStep<Iterable<T>, T>("flatten", stepId, (ctx, down) => (item) => {
    if (!isIterable(item)) {
      throw notIterable(ctx.stepId, "Flatten requires upstream items to be iterables", item);
    }
    for (const x of item) down.next(x as T);
  });
}
