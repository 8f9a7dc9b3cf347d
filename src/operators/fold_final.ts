/**
 * foldFinal: folds each key's values, emitting once at EOF.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { checkFunction } from "./_chain.ts";
import {
  DISCARD,
  type LogicResult,
  NOTHING,
  statefulBatch,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "./stateful_batch.ts";

/**
 * Folds each key's values into an accumulator — `builder()` for a key's first value, then
 * `folder(acc, value)` — and emits `[key, acc]` for every key at EOF (in sorted key order),
 * then drops the state. For finite (batch) input. Like Bytewax's `fold_final`.
 *
 * @param stepId The step's name.
 * @param builder Makes a key's initial accumulator.
 * @param folder Folds one value into the accumulator (may mutate and return it).
 * @param options State TTL.
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
 */
export function foldFinal<V, A>(
  stepId: string,
  builder: () => A,
  folder: (acc: A, value: V) => A,
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, A]> {
  checkFunction("foldFinal", stepId, "a builder", builder);
  checkFunction("foldFinal", stepId, "a folder", folder);
  return statefulBatch<V, A, { acc: A }>(
    stepId,
    (resume) => new FoldLogic(folder, resume === undefined ? builder() : resume.acc),
    options,
  );
}

/** One key of foldFinal. */
class FoldLogic<V, A> implements StatefulBatchLogic<V, A, { acc: A }> {
  constructor(private readonly folder: (acc: A, value: V) => A, private acc: A) {}

  onBatch(values: V[]): LogicResult<A> {
    let acc = this.acc;
    for (let i = 0; i < values.length; i++) acc = this.folder(acc, values[i]!);
    this.acc = acc;
    return NOTHING;
  }

  onValue(value: V): void {
    this.acc = this.folder(this.acc, value);
  }

  onEof(): LogicResult<A> {
    return [[this.acc], DISCARD];
  }

  snapshot(): { acc: A } {
    return { acc: this.acc };
  }
}
