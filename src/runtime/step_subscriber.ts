/**
 * The RxJS plumbing under weir's per-item operators.
 *
 * {@linkcode chainOperator} builds an operator from a per-item function without the wrapper
 * objects RxJS adds for plain observers: the subscriber is handed straight to the upstream, so
 * one item costs one call per operator. Errors thrown by the step's own code are attributed to
 * the step; errors arriving from upstream (a plain RxJS operator fused before it) are
 * attributed to the upstream step.
 *
 * @module
 */
import { Observable, type OperatorFunction, Subscriber } from "rxjs";
import { attributeError } from "../errors.ts";
import type { StepContext } from "../dataflow/op.ts";

/**
 * The capability of a `keyOn`-like step, on the RxJS operator its spec builds: the step only
 * pairs each item with `operator[KEY_OF](item)` (which throws, attributed to the step, for a
 * bad key). Where such a step ends a chain, the builder does not apply the operator: a
 * `KeyingChannel` computes the key and hands `(key, item)` to a keyed node without a pair.
 */
export const KEY_OF: unique symbol = Symbol();

/** An RxJS operator that may declare {@linkcode KEY_OF}. */
export type MaybeKeyingOperator = OperatorFunction<unknown, unknown> & {
  readonly [KEY_OF]?: (item: unknown) => string;
};

/** Receives what a chain step emits. */
export interface Emitter<O> {
  next(value: O): void;
}

class StepSubscriber<I> extends Subscriber<I> {
  constructor(
    destination: Subscriber<unknown>,
    private readonly ctx: StepContext,
    private readonly onItem: (value: I) => void,
    private readonly onEnd: (() => void) | undefined,
  ) {
    super(destination);
  }

  protected override _next(value: I): void {
    try {
      this.onItem(value);
    } catch (err) {
      this.error(attributeError(err, this.ctx.stepId));
    }
  }

  protected override _error(err: unknown): void {
    super._error(attributeError(err, this.ctx.upstreamId));
  }

  protected override _complete(): void {
    if (this.onEnd !== undefined) {
      try {
        this.onEnd();
      } catch (err) {
        super._error(attributeError(err, this.ctx.stepId));
        return;
      }
    }
    super._complete();
  }
}

/**
 * Builds a per-item RxJS operator for a weir chain step.
 *
 * @param ctx The step's context (its id names errors thrown by `makeOnItem`'s function).
 * @param makeOnItem Called once per subscription with the downstream; returns the per-item
 *   function. Anything it throws stops the run with a DataflowError naming the step.
 * @param makeOnEnd Optional: runs at EOF before completing downstream.
 */
export function chainOperator<I, O>(
  ctx: StepContext,
  makeOnItem: (down: Emitter<O>) => (value: I) => void,
  makeOnEnd?: (down: Emitter<O>) => () => void,
): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((destination) => {
      const sub = new StepSubscriber<I>(
        destination as Subscriber<unknown>,
        ctx,
        makeOnItem(destination),
        makeOnEnd?.(destination),
      );
      return source.subscribe(sub);
    });
}

class TagSubscriber<T> extends Subscriber<T> {
  constructor(destination: Subscriber<unknown>, private readonly stepId: string) {
    super(destination);
  }
  protected override _error(err: unknown): void {
    super._error(attributeError(err, this.stepId));
  }
}

/**
 * A pass-through operator that attributes errors coming from upstream to `stepId`. Placed
 * between two fused plain-RxJS steps so each keeps its own errors.
 */
export function tagErrors<T>(stepId: string): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((destination) =>
      source.subscribe(new TagSubscriber<T>(destination as Subscriber<unknown>, stepId))
    );
}
