/**
 * The recorded dataflow graph: plain data, built by the definition API, read by the runtime
 * (which builds it once per worker) and by anything that draws or validates a flow.
 *
 * Steps are stored in definition order, which is a topological order: a step can only read
 * streams that existed when it was defined.
 *
 * @module
 */
import type { OperatorFunction } from "rxjs";
import type { ChainStepSpec, NodeStepSpec } from "./op.ts";
import type { Source } from "../io/inputs.ts";

/** Fields every recorded step has. */
export interface StepBase {
  /** The fully qualified id, e.g. `"flow.scope.step"`. */
  readonly id: string;
  /** The last component of the id. */
  readonly name: string;
  /** The operator that made the step: `"input"`, `"pipe"`, `"keyOn"`, `"branch"`… */
  readonly opType: string;
  /** The enclosing scope's id (the flow id for top-level steps). */
  readonly parent: string;
  /** Ids of the streams the step reads. */
  readonly ups: readonly string[];
  /** Ids of the streams the step writes. */
  readonly downs: readonly string[];
}

/** An input step. */
export interface InputStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "input";
  /** The input connector. */
  readonly source: Source<unknown>;
}

/** An output step. */
export interface OutputStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "output";
  /** The output connector. */
  readonly sink: unknown;
}

/** A run of plain RxJS operators (`pipe_N`, or a `step()` scope holding only plain ones). */
export interface RxStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "rx";
  /** The RxJS operators, applied in order. */
  // deno-lint-ignore no-explicit-any
  readonly ops: readonly OperatorFunction<any, any>[];
}

/** A weir per-item step, fused into RxJS chains at build time. */
export interface ChainStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "chain";
  /** What the weir operator declared about itself. */
  readonly spec: ChainStepSpec;
}

/** A weir step with its own runtime node. */
export interface NodeStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "node";
  /** What the weir operator declared about itself. */
  readonly spec: NodeStepSpec;
}

/** Routes each item to `trues` or `falses`. */
export interface BranchStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "branch";
  /** Decides which side an item goes to. */
  readonly predicate: (item: unknown) => unknown;
}

/** Unites several streams. */
export interface MergeStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "merge";
}

/** A named group of substeps (recorded for graphs; the substeps do the work). */
export interface ScopeStep extends StepBase {
  /** Which kind of step this is. */
  readonly kind: "scope";
}

/** Any recorded step. */
export type StepRecord =
  | InputStep
  | OutputStep
  | RxStep
  | ChainStep
  | NodeStep
  | BranchStep
  | MergeStep
  | ScopeStep;
