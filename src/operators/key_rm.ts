/**
 * keyRm: drops the key of keyed items.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { chainStep, isKeyedPair, notKeyedError } from "./_chain.ts";

/**
 * Emits the value of each `[key, value]` pair. Like Bytewax's `key_rm`.
 *
 * @param stepId The step's name.
 *
 * @example
 * ```ts
 * import { Dataflow, keyRm } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("key_rm_demo");
 * flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["b", 2]]))
 *   .pipe(keyRm("unkey"))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [1, 2]);
 * ```
 */
export function keyRm<V>(stepId: string): WeirOperator<readonly [string, V], V> {
  return chainStep<readonly [string, V], V>("keyRm", stepId, (ctx, down) => (item) => {
    if (!isKeyedPair(item)) throw notKeyedError(ctx.stepId, item);
    down.next(item[1]);
  });
}
