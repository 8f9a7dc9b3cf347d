/**
 * statefulFlatMap: a keyed running state, any number of outputs per item.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { checkFunction, isIterable, preview } from "./_chain.ts";
import { describeType } from "../dataflow/step_id.ts";
import { statefulBatch, type StatefulOptions } from "./stateful_batch.ts";
import type { StatefulMapInit } from "./stateful_map.ts";

/**
 * Like `statefulMap`, but the mapper returns `[newState, outputs]` with any iterable of
 * outputs, each emitted as `[key, output]`. Returning `undefined` (or `null`) as the state
 * discards it. Like Bytewax's `stateful_flat_map`. With `options.init`, as for `statefulMap`,
 * a new or discarded key starts from `init` and the state's type is inferred from it.
 *
 * @param stepId The step's name.
 * @param mapper `(state, value) => [newState | undefined, outputs]`.
 * @param options Initial state, state TTL.
 *
 * @example Emitting only values greater than the previous one
 * ```ts
 * import { Dataflow, statefulFlatMap } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow("rising");
 * flow.input("inp", new TestingSource<[string, number]>([2, 5, 8, 1, 3].map((v) => ["ALL", v])))
 *   .pipe(statefulFlatMap("rise", (last: number | undefined, v: number): [number, number[]] =>
 *     [v, last === undefined || v > last ? [v] : []]))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["ALL", 2], ["ALL", 5], ["ALL", 8], ["ALL", 3]]);
 * ```
 *
 * @example Words seen for the first time per key, the state inferred from `init`
 * ```ts
 * import { Dataflow, statefulFlatMap } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, string][] = [];
 * const flow = new Dataflow("new_words");
 * flow.input("inp", new TestingSource([["a", "x"], ["a", "x"], ["b", "x"], ["a", "y"]]))
 *   .pipe(statefulFlatMap("new", (seen, w) =>
 *     seen.includes(w) ? [seen, []] : [[...seen, w], [w]], { init: (): string[] => [] }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", "x"], ["b", "x"], ["a", "y"]]);
 * ```
 */
export function statefulFlatMap<V, W, S>(
  stepId: string,
  mapper: (state: S, value: V) => readonly [S | undefined | null, Iterable<W>],
  options: StatefulMapInit<S>,
): WeirOperator<readonly [string, V], [string, W]>;
/** Without an initial state: a key's first value sees `undefined` (annotate the state). */
export function statefulFlatMap<V, W, S>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, Iterable<W>],
  options?: StatefulOptions,
): WeirOperator<readonly [string, V], [string, W]>;
export function statefulFlatMap<V, W, S>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, Iterable<W>],
  options: StatefulOptions & { readonly init?: S | (() => S) } = {},
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("statefulFlatMap", stepId, "a mapper", mapper);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `statefulFlatMap("${stepId}"): options must be an options object, got ${
        describeType(options)
      }`,
    );
  }
  const init = options.init;
  const initial = init === undefined
    ? undefined
    : typeof init === "function"
    ? init as () => S
    : () => init;
  return statefulBatch<V, W, S | undefined>(stepId, (resume, ctx) => {
    let state: S | undefined = resume;
    return {
      onBatch(values) {
        const out: W[] = [];
        for (let i = 0; i < values.length; i++) {
          if (state === undefined && initial !== undefined) state = initial();
          const r = mapper(state, values[i]!);
          if (!Array.isArray(r) || r.length !== 2 || !isIterable(r[1])) {
            throw new DataflowError(
              ctx.stepId,
              `Mapper must return a 2-element array [updatedState, outputs] with iterable outputs, got ${
                preview(r)
              }`,
              { key: ctx.key },
            );
          }
          state = r[0] ?? undefined;
          for (const o of r[1] as Iterable<W>) out.push(o);
        }
        return [out, state === undefined];
      },
      snapshot: () => state,
    };
  }, options);
}
