/**
 * step: names a group of operators.
 *
 * @module
 */
import type { OperatorFunction } from "rxjs";
import { checkStepId } from "../dataflow/step_id.ts";
import { type AnyOperator, type WeirOperator, weirOperator } from "../dataflow/op.ts";

/**
 * Groups operators under one step id. Plain RxJS operators alone become a single step with
 * this id (so errors say `flow.clean` instead of `flow.pipe_1`); weir operators inside become
 * substeps (`flow.clean.parse`). Reusable operator bundles are built this way.
 *
 * @example Naming a run of RxJS operators
 * ```ts
 * import { Dataflow, step } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { filter, map } from "rxjs";
 * import { assertEquals } from "@std/assert";
 *
 * const out: string[] = [];
 * const flow = new Dataflow("step_demo");
 * flow.input("inp", new TestingSource([" A ", "", "b"]))
 *   .pipe(step("clean", map((s: string) => s.trim().toLowerCase()), filter((s) => s !== "")))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["a", "b"]);
 * assertEquals(flow.steps.map((s) => s.id), ["step_demo.inp", "step_demo.clean", "step_demo.out"]);
 * ```
 */
export function step<T>(stepId: string): WeirOperator<T, T>;
/** Groups one operator. */
export function step<T, A>(stepId: string, op1: OperatorFunction<T, A>): WeirOperator<T, A>;
/** Groups two operators. */
export function step<T, A, B>(
  stepId: string,
  op1: OperatorFunction<T, A>,
  op2: OperatorFunction<A, B>,
): WeirOperator<T, B>;
/** Groups three operators. */
export function step<T, A, B, C>(
  stepId: string,
  op1: OperatorFunction<T, A>,
  op2: OperatorFunction<A, B>,
  op3: OperatorFunction<B, C>,
): WeirOperator<T, C>;
/** Groups four operators. */
export function step<T, A, B, C, D>(
  stepId: string,
  op1: OperatorFunction<T, A>,
  op2: OperatorFunction<A, B>,
  op3: OperatorFunction<B, C>,
  op4: OperatorFunction<C, D>,
): WeirOperator<T, D>;
/** Groups five operators. */
export function step<T, A, B, C, D, E>(
  stepId: string,
  op1: OperatorFunction<T, A>,
  op2: OperatorFunction<A, B>,
  op3: OperatorFunction<B, C>,
  op4: OperatorFunction<C, D>,
  op5: OperatorFunction<D, E>,
): WeirOperator<T, E>;
/** Groups six operators. */
export function step<T, A, B, C, D, E, F>(
  stepId: string,
  op1: OperatorFunction<T, A>,
  op2: OperatorFunction<A, B>,
  op3: OperatorFunction<B, C>,
  op4: OperatorFunction<C, D>,
  op5: OperatorFunction<D, E>,
  op6: OperatorFunction<E, F>,
): WeirOperator<T, F>;
/** Groups more than six operators (the result type is not inferred past six). */
export function step<T, A, B, C, D, E, F>(
  stepId: string,
  op1: OperatorFunction<T, A>,
  op2: OperatorFunction<A, B>,
  op3: OperatorFunction<B, C>,
  op4: OperatorFunction<C, D>,
  op5: OperatorFunction<D, E>,
  op6: OperatorFunction<E, F>,
  ...more: AnyOperator[]
): WeirOperator<T, unknown>;
export function step(stepId: string, ...ops: AnyOperator[]): WeirOperator<unknown, unknown> {
  checkStepId(stepId);
  return weirOperator({ kind: "scope", name: stepId, opType: "step", ops });
}
