/**
 * countFinal: counts items by key, emitting once at EOF.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import { checkFunction } from "./_chain.ts";
import { COUNT, foldEmitAtEof } from "./_fold.ts";
import { keyOn } from "./key_on.ts";
import type { StatefulOptions } from "./stateful_batch.ts";
import { step } from "./step.ts";

/**
 * Counts the items of an unkeyed stream by `keyFn(item)` and emits `[key, count]` for every
 * key at EOF, in sorted key order. A composite of `keyOn` (substep `key`) and a counting
 * `statefulBatch` (substep `count`). Like Bytewax's `count_final`.
 *
 * @param stepId The step's name.
 * @param keyFn Computes an item's key (a string).
 * @param options State TTL.
 *
 * @example Counting words
 * ```ts
 * import { countFinal, Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("count_demo");
 * flow.input("inp", new TestingSource(["a", "a", "b", "c", "b", "a"]))
 *   .pipe(countFinal("count", (w) => w))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", 3], ["b", 2], ["c", 1]]);
 * ```
 */
export function countFinal<T>(
  stepId: string,
  keyFn: (item: T) => string,
  options: StatefulOptions = {},
): WeirOperator<T, [string, number]> {
  checkStepId(stepId);
  checkFunction("countFinal", stepId, "a key", keyFn);
  return step(
    stepId,
    keyOn("key", keyFn),
    // With several workers, each worker counts its items per key and activation; the owner
    // of the key adds the partial counts. The snapshot is the count.
    foldEmitAtEof<T, number, number>("count", COUNT, options),
  ) as WeirOperator<T, [string, number]>;
}
