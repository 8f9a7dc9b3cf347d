/**
 * reduceFinal: reduces each key's values, emitting once at EOF.
 *
 * @module
 */
import { NO_PARTIAL, type WeirOperator } from "../dataflow/op.ts";
import { checkFunction } from "./_chain.ts";
import {
  DISCARD,
  keyedStep,
  type LogicResult,
  NOTHING,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "./stateful_batch.ts";

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
  const build = (resume: { acc: V } | undefined) => new ReduceLogic(reducer, resume);
  // With several workers, values are reduced on the worker that has them, per activation,
  // and the owner of the key reduces those partial results (the reducer is associative).
  return keyedStep<V, V, { acc: V }, V>(stepId, build, options, {
    fold: (partial, value) => partial === NO_PARTIAL ? value : reducer(partial, value),
    builder: build,
  });
}

/** One key of reduceFinal: a class, so a key's state is one object. */
class ReduceLogic<V> implements StatefulBatchLogic<V, V, { acc: V }> {
  private has: boolean;
  private acc: V | undefined;

  constructor(private readonly reducer: (acc: V, value: V) => V, resume: { acc: V } | undefined) {
    this.has = resume !== undefined;
    this.acc = resume?.acc;
  }

  onBatch(values: V[]): LogicResult<V> {
    let i = 0;
    if (!this.has && values.length > 0) {
      this.acc = values[0];
      this.has = true;
      i = 1;
    }
    let acc = this.acc as V;
    for (; i < values.length; i++) acc = this.reducer(acc, values[i]!);
    this.acc = acc;
    return NOTHING;
  }

  onValue(value: V): void {
    if (this.has) this.acc = this.reducer(this.acc as V, value);
    else {
      this.acc = value;
      this.has = true;
    }
  }

  onEof(): LogicResult<V> {
    return [this.has ? [this.acc as V] : [], DISCARD];
  }

  snapshot(): { acc: V } {
    return { acc: this.acc as V };
  }
}
