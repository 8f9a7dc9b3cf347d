/**
 * countFinal: counts items by key, emitting once at EOF.
 *
 * @module
 */
import { NO_PARTIAL, type WeirOperator } from "../dataflow/op.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import { checkFunction } from "./_chain.ts";
import { keyOn } from "./key_on.ts";
import {
  DISCARD,
  keyedStep,
  type LogicResult,
  NOTHING,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "./stateful_batch.ts";
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
    // of the key adds the partial counts (same snapshot: the count).
    keyedStep<T, number, number, number>(
      "count",
      (resume) => new CountLogic(resume ?? 0),
      options,
      {
        fold: (partial) => partial === NO_PARTIAL ? 1 : (partial as number) + 1,
        builder: (resume) => new SumLogic(resume ?? 0),
      },
    ),
  ) as WeirOperator<T, [string, number]>;
}

/** One key of countFinal on several workers: adds the partial counts of each worker. */
class SumLogic implements StatefulBatchLogic<number, number, number> {
  constructor(private n: number) {}

  onBatch(values: number[]): LogicResult<number> {
    for (let i = 0; i < values.length; i++) this.n += values[i]!;
    return NOTHING;
  }

  onValue(partial: number): void {
    this.n += partial;
  }

  onEof(): LogicResult<number> {
    return [[this.n], DISCARD];
  }

  snapshot(): number {
    return this.n;
  }
}

/** One key of countFinal. */
class CountLogic<T> implements StatefulBatchLogic<T, number, number> {
  constructor(private n: number) {}

  onBatch(values: T[]): LogicResult<number> {
    this.n += values.length;
    return NOTHING;
  }

  onValue(): void {
    this.n++;
  }

  onEof(): LogicResult<number> {
    return [[this.n], DISCARD];
  }

  snapshot(): number {
    return this.n;
  }
}
