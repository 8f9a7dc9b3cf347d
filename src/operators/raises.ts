/**
 * raises: fails the run on the first item.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { chainStep, preview } from "./_chain.ts";

/**
 * Fails the run with a DataflowError on the first item that reaches it: put it on a stream
 * that must stay empty, such as the error branch of a parser. Counts as an output. Like
 * Bytewax's `raises`.
 *
 * @param stepId The step's name.
 *
 * @example
 * ```ts
 * import { Dataflow, raises } from "@weir/weir";
 * import { runMain, TestingSource } from "@weir/weir/testing";
 * import { assertRejects } from "@std/assert";
 *
 * const flow = new Dataflow("raises_demo");
 * flow.input("inp", new TestingSource([0, 1])).pipe(raises("no_items"));
 * await assertRejects(() => runMain(flow), Error, "got an item: 0");
 * ```
 */
export function raises<T>(stepId: string): WeirOperator<T, never> {
  return chainStep<T, never>("raises", stepId, (ctx) => (item) => {
    throw new DataflowError(ctx.stepId, `\`raises\` step got an item: ${preview(item)}`);
  }, { isOutput: true });
}
