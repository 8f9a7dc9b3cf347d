/**
 * keyOn: pairs each item with a string key.
 *
 * @module
 */
import type { StepContext, WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { chainStep, checkFunction, preview } from "./_chain.ts";

/**
 * Emits `[keyFn(item), item]` for each item: the way into keyed and stateful operators. Like
 * Bytewax's `key_on`. The key must be a string; anything else fails the run naming the step.
 *
 * @param stepId The step's name.
 * @param keyFn Computes the item's key.
 *
 * @example
 * ```ts
 * import { Dataflow, keyOn } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, { user: string }][] = [];
 * const flow = new Dataflow("key_on_demo");
 * flow.input("inp", new TestingSource([{ user: "ann" }, { user: "bob" }]))
 *   .pipe(keyOn("by_user", (e) => e.user))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ann", { user: "ann" }], ["bob", { user: "bob" }]]);
 * ```
 */
export function keyOn<T>(stepId: string, keyFn: (item: T) => string): WeirOperator<T, [string, T]> {
  checkFunction("keyOn", stepId, "a key", keyFn);
  const makeKeyOf = (ctx: StepContext) => (item: T): string => {
    const key = keyFn(item);
    if (typeof key !== "string") {
      throw new DataflowError(
        ctx.stepId,
        `Key function must return a string, got ${typeof key} ${preview(key)}`,
        { cause: new TypeError(`Key of ${preview(item)} is not a string`) },
      );
    }
    return key;
  };
  return chainStep<T, [string, T]>("keyOn", stepId, (ctx, down) => {
    const keyOf = makeKeyOf(ctx);
    return (item) => down.next([keyOf(item), item]);
  }, { makeKeyOf });
}
