/**
 * How weir's own operators describe themselves to the definition API and the runtime.
 *
 * A weir operator (keyOn, mapAsync, statefulMap…) is an RxJS `OperatorFunction` with a
 * {@linkcode StepSpec} attached under {@linkcode STEP_SPEC}. `Stream.pipe` reads the spec to
 * record a named step; plain RxJS operators carry no spec and are grouped into anonymous
 * `pipe_N` steps. Three kinds exist:
 *
 * - `chain`: a synchronous, per-item operator. The runtime fuses consecutive chain steps
 *   (and plain RxJS operators) into one RxJS chain with no hop between them.
 * - `node`: a step with its own runtime node, for anything that needs the activation
 *   boundary, asynchronous work, timers or state (flatMapBatch, mapAsync, statefulBatch).
 * - `scope`: a named group of operators whose steps become substeps (`flow.scope.sub`).
 *
 * @module
 */
import type { OperatorFunction } from "rxjs";
import type { Clock } from "../clock.ts";

/**
 * Any RxJS operator, whatever its item types: what `Stream.pipe` and `step` accept past their
 * ninth operator, where the item types are no longer inferred.
 */
// deno-lint-ignore no-explicit-any
export type AnyOperator = OperatorFunction<any, any>;

/** The key under which a weir operator carries its {@linkcode StepSpec}. */
export const STEP_SPEC: unique symbol = Symbol.for("weir.stepSpec");

/** What a step sees of the runtime: ids, the worker, the activation's time and epoch. */
export interface StepContext {
  /** The fully qualified step id, e.g. `"flow.scope.step"`. */
  readonly stepId: string;
  /** The fully qualified id of the step feeding this one (for attributing its errors). */
  readonly upstreamId: string;
  /** This worker's index, from 0. */
  readonly workerIndex: number;
  /** How many workers run the flow. */
  readonly workerCount: number;
  /** The run's clock. Operators should prefer {@linkcode StepContext.now}. */
  readonly clock: Clock;
  /** The current activation's time (sampled once per activation, never decreasing). */
  now(): number;
  /** The current epoch (the first epoch of a fresh run is 1). */
  epoch(): number;
  /** Stops the run with `error` (wrapped into a DataflowError naming this step if needed). */
  fail(error: unknown, details?: { key?: string; what?: string }): void;
  /** Asks the scheduler for an activation soon (after asynchronous work completed). */
  wake(): void;
}

/** Receives a step's output items. */
export interface Downstream<T> {
  /** Pushes one item downstream; only valid during an activation. */
  next(item: T): void;
  /** Signals the end of this stream (EOF). */
  complete(): void;
}

/**
 * A runtime node: the per-worker object behind a `node` step. The scheduler calls its hooks;
 * see ARCHITECTURE.md for the activation cycle.
 */
export interface RuntimeNode<I> {
  /** Receives one upstream item (during an activation). Must not throw. */
  next(item: I): void;
  /** The upstream reached EOF. Finish in `flush`, then complete downstream. */
  complete(): void;
  /**
   * Called at the end of every activation, in topological order: emit what the activation
   * produced (buffered batches, settled async results, timers due at `now`).
   */
  flush?(now: number): void;
  /** How many items are held or in flight; epochs and EOF wait for 0. */
  pending?(): number;
  /** True while the node wants the scheduler to stop reading inputs (backpressure). */
  isFull?(): boolean;
  /** The earliest time at which `flush` has timer work to do, if any. */
  nextWake?(): number | undefined;
  /** Called at each epoch end, after every write of the epoch settled (and snapshots). */
  epochEnded?(epoch: number): void;
  /**
   * Keyed state for recovery: calls `fn` for every key changed in the current epoch, with
   * its snapshot or `DISCARDED` when its state was dropped. Nodes that have
   * this method are snapshotted under their step id.
   */
  forEachChange?(fn: (key: string, snapshot: unknown) => void): void;
  /**
   * Rebuilds a key's state from its snapshot before the first activation of a resumed run
   * (a later call for the same key replaces it; `DISCARDED` removes it).
   */
  restore?(key: string, snapshot: unknown): void;
  /** Forgets every restored key (the store recorded a drop of the step's state). */
  resetState?(): void;
  /** Releases resources when the run ends. */
  close?(): void | Promise<void>;
}

/**
 * Marks a key whose state was dropped in the epoch: what {@linkcode RuntimeNode.forEachChange}
 * reports for it, and what `RuntimeNode.restore` takes to remove it. Exported from mod.ts as
 * `DISCARDED` (this module's name, `DISCARDED_STATE`, is internal).
 */
export const DISCARDED_STATE: unique symbol = Symbol("weir.discarded");

/** A synchronous per-item step, fused with its neighbours into one RxJS chain. */
export interface ChainStepSpec {
  /** Which kind of step this is. */
  readonly kind: "chain";
  /** The step's own name (no periods). */
  readonly name: string;
  /** The operator's name, e.g. `"keyOn"`, for graphs and errors. */
  readonly opType: string;
  /** True for steps that count as an output in validation (inspect, raises). */
  readonly isOutput?: boolean;
  /**
   * With several workers, the runtime moves the step's input between workers first:
   * `"spread"` evenly (redistribute). Only the identity step may declare it.
   */
  readonly exchange?: "spread";
  /** Builds the RxJS operator for one worker. */
  build(ctx: StepContext): OperatorFunction<unknown, unknown>;
}

/** A step with its own runtime node. */
export interface NodeStepSpec {
  /** Which kind of step this is. */
  readonly kind: "node";
  /** The step's own name (no periods). */
  readonly name: string;
  /** The operator's name, e.g. `"mapAsync"`. */
  readonly opType: string;
  /**
   * `"key"`: the step holds keyed state (statefulBatch). With several workers, the runtime
   * routes each `[key, value]` item to the worker owning the key before the step, and
   * recovery routes restored keys the same way.
   */
  readonly exchange?: "key";
  /**
   * With several workers, pre-aggregation: the values of a key are folded on the worker
   * that has them, per activation, and only the partial aggregates cross the exchange, to a
   * node built by `combine.build` that merges partials (with the same snapshots as `build`'s,
   * so a run resumes on any number of workers). Only for folds where that is correct.
   */
  readonly combine?: Combiner;
  /** Builds the node for one worker; it emits into `down`. */
  build(ctx: StepContext, down: Downstream<unknown>): RuntimeNode<unknown>;
}

/** The first argument of {@linkcode Combiner.fold} for a key's first value of an activation. */
export const NO_PARTIAL: unique symbol = Symbol("weir.noPartial");

/** How a keyed step's values are pre-aggregated before the exchange (see `NodeStepSpec`). */
export interface Combiner {
  /** Folds `value` into a key's partial aggregate (`NO_PARTIAL` before its first value). */
  fold(partial: unknown, value: unknown): unknown;
  /** Builds the node that receives `[key, partial]` pairs instead of values. */
  build(ctx: StepContext, down: Downstream<unknown>): RuntimeNode<unknown>;
}

/** A named group of operators whose steps become substeps. */
export interface ScopeStepSpec {
  /** Which kind of step this is. */
  readonly kind: "scope";
  /** The scope's name (no periods). */
  readonly name: string;
  /** The operator's name, e.g. `"step"` or `"countFinal"`. */
  readonly opType: string;
  /** The operators inside the scope, applied in order. */
  // deno-lint-ignore no-explicit-any
  readonly ops: readonly OperatorFunction<any, any>[];
}

/** Any step description. */
export type StepSpec = ChainStepSpec | NodeStepSpec | ScopeStepSpec;

/** An RxJS operator that is a named weir step. */
export interface WeirOperator<A, B> extends OperatorFunction<A, B> {
  /** How the definition API and the runtime treat the step. */
  readonly [STEP_SPEC]: StepSpec;
}

/** Reads the spec of a weir operator, or `undefined` for a plain RxJS operator. */
export function stepSpecOf(op: unknown): StepSpec | undefined {
  return typeof op === "function"
    ? (op as Partial<WeirOperator<unknown, unknown>>)[STEP_SPEC]
    : undefined;
}

/**
 * Turns a spec into a pipeable operator. Applied outside a weir dataflow (as a plain RxJS
 * operator), it throws: it needs the runtime's context.
 */
export function weirOperator<A, B>(spec: StepSpec): WeirOperator<A, B> {
  const op = (() => {
    throw new TypeError(
      `${spec.opType}("${spec.name}") is a weir step: use it inside Stream.pipe() of a Dataflow`,
    );
  }) as unknown as WeirOperator<A, B>;
  Object.defineProperty(op, STEP_SPEC, { value: spec, enumerable: false });
  return op;
}
