/**
 * flatMap: maps each item to any number of items.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { chainStep, checkFunction, isIterable, preview } from "./_chain.ts";

/**
 * Emits every element of the iterable `mapper(item)` returns — an array, a Set, a generator…
 * Like Bytewax's `flat_map`; unlike RxJS `mergeMap`, no Observable is created per item.
 *
 * @param stepId The step's name.
 * @param mapper Maps one item to an iterable.
 *
 * @example Splitting lines into words
 * ```ts
 * import { Dataflow, flatMap } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: string[] = [];
 * const flow = new Dataflow("flat_map_demo");
 * flow.input("inp", new TestingSource(["split this", "and this"]))
 *   .pipe(flatMap("split", (line) => line.split(" ")))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, ["split", "this", "and", "this"]);
 * ```
 */
export function flatMap<T, U>(
  stepId: string,
  mapper: (item: T) => Iterable<U>,
): WeirOperator<T, U> {
  checkFunction("flatMap", stepId, "a mapper", mapper);
  return chainStep<T, U>("flatMap", stepId, (ctx, down) => (item) => {
    const out = mapper(item);
    if (Array.isArray(out)) {
      for (let i = 0; i < out.length; i++) down.next(out[i]);
      return;
    }
    if (!isIterable(out)) throw notIterable(ctx.stepId, "Mapper must return an iterable", out);
    for (const x of out) down.next(x);
  });
}

/** The error for a mapper result (or an item) that is not iterable; `key` for keyed steps. */
export function notIterable(
  stepId: string,
  what: string,
  value: unknown,
  key?: string,
): DataflowError {
  return new DataflowError(stepId, `${what}, got ${preview(value)}`, {
    key,
    cause: new TypeError(`${preview(value)} is not iterable`),
  });
}
