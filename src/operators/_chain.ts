/**
 * Private helpers shared by the per-item operators.
 *
 * @module
 */
import type { OperatorFunction } from "rxjs";
import { checkStepId, describeType } from "../dataflow/step_id.ts";
import { type StepContext, type WeirOperator, weirOperator } from "../dataflow/op.ts";
import { attributeError, DataflowError } from "../errors.ts";
import { chainOperator, type Emitter, KEY_OF } from "../runtime/step_subscriber.ts";

/** Options of {@linkcode chainStep}. */
export interface ChainStepOptions<O, I = unknown> {
  /** The step counts as an output for flow validation. */
  readonly isOutput?: boolean;
  /** With several workers, items are spread evenly over the workers first (redistribute). */
  readonly exchange?: "spread";
  /** Runs at EOF, before downstream completes. */
  readonly makeOnEnd?: (ctx: StepContext, down: Emitter<O>) => () => void;
  /**
   * The step emits `[makeKeyOf(ctx)(item), item]` and nothing else (`keyOn`): declares
   * `KEY_OF` on its operator, so that the runtime may key items without the step (see
   * `KEY_OF`). `makeOnItem` must do exactly the same.
   */
  readonly makeKeyOf?: (ctx: StepContext) => (item: I) => string;
}

/** Declares a per-item weir step; the runtime fuses it into the surrounding RxJS chain. */
export function chainStep<I, O>(
  opType: string,
  stepId: string,
  makeOnItem: (ctx: StepContext, down: Emitter<O>) => (value: I) => void,
  options: ChainStepOptions<O, I> = {},
): WeirOperator<I, O> {
  checkStepId(stepId);
  const { makeOnEnd, makeKeyOf } = options;
  return weirOperator<I, O>({
    kind: "chain",
    name: stepId,
    opType,
    isOutput: options.isOutput ?? false,
    ...(options.exchange === undefined ? {} : { exchange: options.exchange }),
    build: (ctx) => {
      const op = chainOperator<I, O>(
        ctx,
        (down) => makeOnItem(ctx, down),
        makeOnEnd && ((down) => makeOnEnd(ctx, down)),
      ) as OperatorFunction<unknown, unknown>;
      if (makeKeyOf) (op as { [KEY_OF]?: unknown })[KEY_OF] = makeKeyOf(ctx);
      return op;
    },
  });
}

/** Throws a TypeError at definition time unless `fn` is a function. */
export function checkFunction(opType: string, stepId: string, what: string, fn: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(`${opType}("${stepId}") needs ${what} function, got ${describeType(fn)}`);
  }
}

/** True for a `[string, value]` pair. */
export function isKeyedPair(item: unknown): item is [string, unknown] {
  return Array.isArray(item) && item.length === 2 && typeof item[0] === "string";
}

/** The error for an item that is not a `[string, value]` pair. */
export function notKeyedError(stepId: string, item: unknown): DataflowError {
  return new DataflowError(
    stepId,
    `Expected a [key, value] pair with a string key, got ${preview(item)}`,
    { cause: new TypeError("Keyed steps need [string, value] pairs; use keyOn first") },
  );
}

/** True when `value` can be iterated with for…of. */
export function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

/** A short rendering of a value for error messages. */
export function preview(value: unknown): string {
  let s: string;
  try {
    s = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Calls `fn(arg)` for a keyed item, attributing an error to the step and the key. */
export function callForKey<A, R>(stepId: string, key: string, fn: (arg: A) => R, arg: A): R {
  try {
    return fn(arg);
  } catch (err) {
    throw attributeError(err, stepId, "", { key });
  }
}
