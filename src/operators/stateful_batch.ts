/**
 * statefulBatch: the keyed-state primitive every stateful operator is built on.
 *
 * @module
 */
import { checkStepId } from "../dataflow/step_id.ts";
import {
  DISCARDED_STATE as DISCARDED,
  type Downstream,
  type NO_PARTIAL,
  type RuntimeNode,
  type StepContext,
  type WeirOperator,
  weirOperator,
} from "../dataflow/op.ts";
import { checkFunction } from "./_chain.ts";
import type { PerValueLogic } from "./_per_value_logic.ts";
import { StatefulBatchNode } from "./_stateful_batch_node.ts";
import type { LogicBuilder, StatefulBatchLogic, StatefulOptions } from "./stateful_batch_logic.ts";

export {
  DISCARD,
  type LogicBuilder,
  type LogicContext,
  type LogicResult,
  NOTHING,
  RETAIN,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "./stateful_batch_logic.ts";

// Marks a key whose state was discarded in the epoch: the runtime's own symbol, public under
// this name (so that its type, `typeof DISCARDED`, is public too).
export { DISCARDED };

/**
 * The lowest-level stateful operator: keeps one {@linkcode StatefulBatchLogic} per key of a
 * keyed stream, built by `builder(resumeState | undefined)`, and emits `[key, output]`.
 * Like Bytewax's `stateful_batch`; every other stateful operator is a composition of it.
 *
 * @param stepId The step's name: with the key, it identifies the state in snapshots.
 * @param builder Builds a key's logic from its snapshot on resume (or `undefined`), and a
 *   {@linkcode LogicContext} with the key and the activation's time.
 * @param options State TTL.
 *
 * @example A running sum per key that forgets a key after reaching 10
 * ```ts
 * import { Dataflow, DISCARD, RETAIN, statefulBatch } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("sums");
 * flow.input("inp", new TestingSource<[string, number]>([["a", 4], ["b", 1], ["a", 6], ["a", 2]]))
 *   .pipe(statefulBatch("sum", (resume: number | undefined) => {
 *     let sum = resume ?? 0;
 *     return {
 *       onBatch(values: number[]) {
 *         for (const v of values) sum += v;
 *         return [[sum], sum >= 10 ? DISCARD : RETAIN];
 *       },
 *       snapshot: () => sum,
 *     };
 *   }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", 4], ["b", 1], ["a", 10], ["a", 2]]);
 * ```
 */
export function statefulBatch<V, W, S>(
  stepId: string,
  builder: LogicBuilder<StatefulBatchLogic<V, W, S>, S>,
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, W]> {
  return keyedStep(stepId, builder, options);
}

/**
 * Internal: {@linkcode statefulBatch} for logics that may take the per-value path
 * ({@linkcode PerValueLogic}), with optional pre-aggregation. With several workers, a key's
 * values are folded by `combine.fold` on the worker that read them (per activation) and the
 * partial aggregates are merged by the logic `combine.builder` builds, which must take the
 * same snapshots as `builder`'s logic and emit what it would have. Correct for folds whose
 * partial results merge (counts, associative reductions, folds with a merge).
 */
export function keyedStep<V, W, S, P>(
  stepId: string,
  builder: LogicBuilder<PerValueLogic<V, W, S>, S>,
  options: StatefulOptions,
  combine?: {
    readonly fold: (partial: P | typeof NO_PARTIAL, value: V) => P;
    readonly builder: LogicBuilder<PerValueLogic<P, W, S>, S>;
  },
): WeirOperator<readonly [string, V], [string, W]> {
  checkStepId(stepId);
  checkFunction("statefulBatch", stepId, "a builder", builder);
  const ttl = options.ttl;
  if (ttl !== undefined && !(ttl > 0)) {
    throw new RangeError(`statefulBatch("${stepId}") needs a ttl > 0 ms, got ${ttl}`);
  }
  const build =
    <X>(b: LogicBuilder<PerValueLogic<X, W, S>, S>) =>
    (ctx: StepContext, down: Downstream<unknown>) =>
      new StatefulBatchNode<X, W, S>(ctx, down as Downstream<[string, W]>, b, ttl) as RuntimeNode<
        unknown
      >;
  return weirOperator<readonly [string, V], [string, W]>({
    kind: "node",
    name: stepId,
    opType: "statefulBatch",
    exchange: "key",
    build: build(builder),
    ...(combine === undefined ? {} : {
      combine: {
        fold: combine.fold as (partial: unknown, value: unknown) => unknown,
        build: build(combine.builder),
      },
    }),
  });
}
