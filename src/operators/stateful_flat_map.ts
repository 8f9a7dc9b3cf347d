/**
 * statefulFlatMap: a keyed running state, any number of outputs per item.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { checkFunction, isIterable, preview } from "./_chain.ts";
import { statefulBatch, type StatefulOptions } from "./stateful_batch.ts";

/**
 * Like `statefulMap`, but the mapper returns `[newState, outputs]` with any iterable of
 * outputs, each emitted as `[key, output]`. Returning `undefined` (or `null`) as the state
 * discards it. Like Bytewax's `stateful_flat_map`.
 *
 * @param stepId The step's name.
 * @param mapper `(state | undefined, value) => [newState | undefined, outputs]`.
 * @param options State TTL.
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
 */
export function statefulFlatMap<V, W, S>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, Iterable<W>],
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("statefulFlatMap", stepId, "a mapper", mapper);
  return statefulBatch<V, W, S | undefined>(stepId, (resume, ctx) => {
    let state: S | undefined = resume;
    return {
      onBatch(values) {
        const out: W[] = [];
        for (let i = 0; i < values.length; i++) {
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
