/**
 * flatMapValue: maps each keyed value to any number of values under the same key.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { attributeError } from "../errors.ts";
import {
  callForKey,
  chainStep,
  checkFunction,
  isIterable,
  isKeyedPair,
  notKeyedError,
} from "./_chain.ts";
import { notIterable } from "./flat_map.ts";

/**
 * For each `[key, value]`, emits `[key, x]` for every `x` of `mapper(value)`. Like Bytewax's
 * `flat_map_value`.
 *
 * @param stepId The step's name.
 * @param mapper Maps one value to an iterable.
 *
 * @example
 * ```ts
 * import { Dataflow, flatMapValue } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, string][] = [];
 * const flow = new Dataflow("flat_map_value_demo");
 * flow.input("inp", new TestingSource<[string, string]>([["doc1", "a b"]]))
 *   .pipe(flatMapValue("words", (text) => text.split(" ")))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["doc1", "a"], ["doc1", "b"]]);
 * ```
 */
export function flatMapValue<V, W>(
  stepId: string,
  mapper: (value: V) => Iterable<W>,
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("flatMapValue", stepId, "a mapper", mapper);
  return chainStep<readonly [string, V], [string, W]>(
    "flatMapValue",
    stepId,
    (ctx, down) => (item) => {
      if (!isKeyedPair(item)) throw notKeyedError(ctx.stepId, item);
      const key = item[0];
      const out = callForKey(ctx.stepId, key, mapper, item[1] as V);
      if (!isIterable(out)) {
        throw notIterable(ctx.stepId, "Mapper must return an iterable", out, key);
      }
      // A generator's body runs while it is iterated: its errors belong to the key too.
      const it = out[Symbol.iterator]();
      for (;;) {
        let r: IteratorResult<W>;
        try {
          r = it.next() as IteratorResult<W>;
        } catch (err) {
          throw attributeError(err, ctx.stepId, "", { key });
        }
        if (r.done) break;
        down.next([key, r.value]);
      }
    },
  );
}
