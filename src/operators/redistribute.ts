/**
 * redistribute: spreads items over the workers.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { chainStep } from "./_chain.ts";

/**
 * Spreads items evenly over the workers, to balance CPU-heavy stateless steps that follow.
 * Items are unchanged; order across workers is not kept. With one worker it is the identity;
 * with several (`run`'s `workers`), each worker deals its items round-robin over all workers
 * in batches. Useless right before a stateful step, which routes by key
 * anyway. Like Bytewax's `redistribute`.
 *
 * @param stepId The step's name.
 *
 * @example
 * ```ts
 * import { Dataflow, redistribute } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("redistribute_demo");
 * flow.input("inp", new TestingSource([1, 2, 3])).pipe(redistribute("spread"))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [1, 2, 3]);
 * ```
 */
export function redistribute<T>(stepId: string): WeirOperator<T, T> {
  return chainStep<T, T>("redistribute", stepId, (_ctx, down) => (item) => down.next(item), {
    exchange: "spread",
  });
}
