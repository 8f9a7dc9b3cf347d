/**
 * reduceFinal: reduces each key's values, emitting once at EOF.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { checkFunction } from "./_chain.ts";
import { foldEmitAtEof } from "./_fold.ts";
import type { StatefulOptions } from "./stateful_batch.ts";

/**
 * Reduces each key's values with `reducer(acc, value)`, the first value being the initial
 * accumulator, and emits `[key, acc]` for every key at EOF (sorted key order). Like Bytewax's
 * `reduce_final`.
 *
 * With several workers (`run`'s `workers`), each worker reduces the values it has per
 * activation and the key's owner reduces those results, so `reducer` must be associative
 * (one accumulator per key and activation crosses between workers instead of every value).
 *
 * @param stepId The step's name.
 * @param reducer Combines the accumulator with the next value.
 * @param options State TTL.
 *
 * @example Sum per key
 * ```ts
 * import { Dataflow, reduceFinal } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("reduce_demo");
 * flow.input("inp", new TestingSource<[string, number]>([["b", 1], ["a", 2], ["b", 3]]))
 *   .pipe(reduceFinal("sum", (a: number, b: number) => a + b))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", 2], ["b", 4]]);
 * ```
 */
export function reduceFinal<V>(
  stepId: string,
  reducer: (acc: V, value: V) => V,
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, V]> {
  checkFunction("reduceFinal", stepId, "a reducer", reducer);
  // With several workers, values are reduced on the worker that has them, per activation,
  // and the owner of the key reduces those partial results (the reducer is associative).
  return foldEmitAtEof<V, V, { acc: V }>(stepId, {
    seed: undefined,
    folder: reducer,
    merge: reducer,
    toSnapshot: (acc) => ({ acc }),
    fromSnapshot: (s) => s.acc,
  }, options);
}
