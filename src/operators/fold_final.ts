/**
 * foldFinal: folds each key's values, emitting once at EOF.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { checkFunction } from "./_chain.ts";
import { foldEmitAtEof } from "./_fold.ts";
import type { StatefulOptions } from "./stateful_batch.ts";

/**
 * Folds each key's values into an accumulator — `builder()` for a key's first value, then
 * `folder(acc, value)` — and emits `[key, acc]` for every key at EOF (in sorted key order),
 * then drops the state. For finite (batch) input. Like Bytewax's `fold_final`.
 *
 * @param stepId The step's name.
 * @param builder Makes a key's initial accumulator.
 * @param folder Folds one value into the accumulator (may mutate and return it).
 * @param options State TTL, and `merge`: with several workers (`run`'s `workers`), each
 *   worker folds the values it has per activation (from `builder()`) and the key's owner
 *   merges these partial accumulators with `merge(acc, partial)` — so only one accumulator
 *   per key and activation crosses between workers instead of every value. `builder()` must
 *   then be neutral for `merge`. Without `merge`, every value moves to the key's owner.
 *
 * @example Maximum per key
 * ```ts
 * import { Dataflow, foldFinal } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("fold_demo");
 * flow.input("inp", new TestingSource<[string, number]>([1, 4, 2, 9, 4, 3].map((v) => ["ALL", v])))
 *   .pipe(foldFinal("max", () => 0, (acc: number, v: number) => Math.max(acc, v)))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ALL", 9]]);
 * ```
 *
 * @example Sums and counts, with a merge for several workers
 * ```ts
 * import { Dataflow, foldFinal } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type Acc = { sum: number; n: number };
 * const out: [string, Acc][] = [];
 * const flow = new Dataflow("fold_merge_demo");
 * flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["b", 5], ["a", 3]]))
 *   .pipe(foldFinal("avg", (): Acc => ({ sum: 0, n: 0 }), (acc: Acc, v: number) => ({
 *     sum: acc.sum + v,
 *     n: acc.n + 1,
 *   }), { merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }) }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", { sum: 4, n: 2 }], ["b", { sum: 5, n: 1 }]]);
 * ```
 */
export function foldFinal<V, A>(
  stepId: string,
  builder: () => A,
  folder: (acc: A, value: V) => A,
  options: FoldFinalOptions<A> = {},
): WeirOperator<readonly [string, V], [string, A]> {
  checkFunction("foldFinal", stepId, "a builder", builder);
  checkFunction("foldFinal", stepId, "a folder", folder);
  const merge = options.merge;
  if (merge !== undefined) checkFunction("foldFinal", stepId, "a merge", merge);
  return foldEmitAtEof<V, A, { acc: A }>(stepId, {
    seed: builder,
    folder,
    merge,
    toSnapshot: (acc) => ({ acc }),
    fromSnapshot: (s) => s.acc,
  }, options);
}

/** Options of {@linkcode foldFinal}. */
export interface FoldFinalOptions<A> extends StatefulOptions {
  /**
   * Merges two accumulators (`builder()` being neutral): lets several workers fold their
   * values before the exchange and move only their accumulators (see `foldFinal`).
   */
  readonly merge?: (acc: A, other: A) => A;
}
