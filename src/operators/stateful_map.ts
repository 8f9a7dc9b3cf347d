/**
 * statefulMap: a keyed running state, one output per item.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { checkFunction, preview } from "./_chain.ts";
import {
  type LogicContext,
  type LogicResult,
  statefulBatch,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "./stateful_batch.ts";

/**
 * For each `[key, value]`, calls `mapper(state, value)` → `[newState, output]` and emits
 * `[key, output]`; like RxJS `scan`, but keyed and snapshotted. Like Bytewax's
 * `stateful_map`.
 *
 * 1. A key's first value sees `state === undefined`.
 * 2. The returned state is kept for the key's next value (and snapshotted at epoch ends).
 * 3. Returning `undefined` (or `null`) as the state discards it: the next value starts from
 *    `undefined` again.
 *
 * A mapper that does not return a 2-element array fails the run, naming the step and key.
 *
 * @param stepId The step's name.
 * @param mapper `(state | undefined, value) => [newState | undefined, output]`.
 * @param options State TTL.
 *
 * @example A running mean per key
 * ```ts
 * import { Dataflow, statefulMap } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type Avg = { sum: number; n: number };
 * const out: [string, number][] = [];
 * const flow = new Dataflow("avg");
 * flow.input("inp", new TestingSource<[string, number]>([["t", 2], ["t", 4], ["u", 1], ["t", 9]]))
 *   .pipe(statefulMap("mean", (s: Avg | undefined, v: number): [Avg, number] => {
 *     const next = { sum: (s?.sum ?? 0) + v, n: (s?.n ?? 0) + 1 };
 *     return [next, next.sum / next.n];
 *   }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["t", 2], ["t", 3], ["u", 1], ["t", 5]]);
 * ```
 */
export function statefulMap<V, W, S>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, W],
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("statefulMap", stepId, "a mapper", mapper);
  return statefulBatch<V, W, S | undefined>(
    stepId,
    (resume, ctx) => new MapLogic(mapper, resume, ctx),
    options,
  );
}

/** One key of statefulMap. */
class MapLogic<V, W, S> implements StatefulBatchLogic<V, W, S | undefined> {
  constructor(
    private readonly mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, W],
    private state: S | undefined,
    private readonly ctx: LogicContext,
  ) {}

  onBatch(values: V[]): LogicResult<W> {
    const out = new Array<W>(values.length);
    let state = this.state;
    for (let i = 0; i < values.length; i++) {
      const r = this.mapper(state, values[i]!);
      if (!Array.isArray(r) || r.length !== 2) {
        this.state = state;
        throw new DataflowError(
          this.ctx.stepId,
          `Mapper must return a 2-element array [updatedState, emit], got ${preview(r)}`,
          { key: this.ctx.key },
        );
      }
      state = r[0] ?? undefined;
      out[i] = r[1];
    }
    this.state = state;
    return [out, state === undefined];
  }

  snapshot(): S | undefined {
    return this.state;
  }
}
