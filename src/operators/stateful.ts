/**
 * stateful: keyed state with a per-item callback.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { checkFunction, isIterable, preview } from "./_chain.ts";
import {
  type LogicBuilder,
  type LogicResult,
  NOTHING,
  statefulBatch,
  type StatefulOptions,
} from "./stateful_batch.ts";

/**
 * The per-key logic of {@linkcode stateful}: like `StatefulBatchLogic`, with `onItem` called
 * once per value instead of `onBatch` once per activation.
 */
export interface StatefulLogic<V, W, S> {
  /** Handles one value. */
  onItem(value: V): LogicResult<W>;
  /** Handles a timer set by `notifyAt`. Default: emit nothing, retain. */
  onNotify?(): LogicResult<W>;
  /** Handles the end of the input. Default: emit nothing, retain. */
  onEof?(): LogicResult<W>;
  /** When to call `onNotify` next, if at all. */
  notifyAt?(): number | Date | undefined;
  /** The state to snapshot. */
  snapshot(): S;
}

/**
 * Keyed state with a per-item callback: like `statefulBatch`, but the logic's `onItem` sees
 * one value at a time. When `onItem` discards in the middle of an activation's values, the
 * next value of that key gets a fresh logic from `builder(undefined, ctx)`. Like Bytewax's
 * `stateful`.
 *
 * 1. The first value of a key builds its logic with `builder(undefined, ctx)`.
 * 2. Each value calls `onItem`; its outputs are emitted as `[key, output]`.
 * 3. `discard` drops the logic; `notifyAt`, `onNotify` and `onEof` behave as in
 *    `statefulBatch`.
 *
 * @param stepId The step's name.
 * @param builder Builds a key's logic, from its snapshot on resume.
 * @param options State TTL.
 *
 * @example Emitting each value with the previous one, forgetting on "reset"
 * ```ts
 * import { Dataflow, DISCARD, RETAIN, stateful } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, [string | undefined, string]][] = [];
 * const flow = new Dataflow("prev");
 * flow.input("inp", new TestingSource<[string, string]>([["a", "x"], ["a", "reset"], ["a", "y"]]))
 *   .pipe(stateful("pairs", (resume: string | undefined) => {
 *     let last = resume;
 *     return {
 *       onItem(v: string) {
 *         const out: [string | undefined, string] = [last, v];
 *         last = v;
 *         return [[out], v === "reset" ? DISCARD : RETAIN];
 *       },
 *       snapshot: () => last,
 *     };
 *   }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [undefined, "x"]], ["a", ["x", "reset"]], ["a", [undefined, "y"]]]);
 * ```
 */
export function stateful<V, W, S>(
  stepId: string,
  builder: LogicBuilder<StatefulLogic<V, W, S>, S>,
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("stateful", stepId, "a builder", builder);
  return statefulBatch<V, W, S>(stepId, (resume, ctx) => {
    let logic: StatefulLogic<V, W, S> | undefined = builder(resume, ctx);
    return {
      onBatch(values) {
        const out: W[] = [];
        for (let i = 0; i < values.length; i++) {
          logic ??= builder(undefined, ctx);
          const [outputs, discard] = checkResult<W>(
            ctx.stepId,
            ctx.key,
            "onItem",
            logic.onItem(values[i]!),
          );
          for (const o of outputs) out.push(o);
          if (discard) logic = undefined;
        }
        return [out, logic === undefined];
      },
      onNotify: () => logic?.onNotify?.() ?? NOTHING,
      onEof: () => logic?.onEof?.() ?? NOTHING,
      notifyAt: () => logic?.notifyAt?.(),
      snapshot: () => logic!.snapshot(),
    };
  }, options);
}

/** Checks a `[outputs, discard]` result, naming the step and key when it is malformed. */
export function checkResult<W>(
  stepId: string,
  key: string,
  method: string,
  result: unknown,
): LogicResult<W> {
  if (
    !Array.isArray(result) || result.length !== 2 || typeof result[1] !== "boolean" ||
    !isIterable(result[0])
  ) {
    throw new DataflowError(
      stepId,
      `${method} must return [outputs, discard] (an iterable and a boolean), got ${
        preview(result)
      }`,
      { key },
    );
  }
  return result as unknown as LogicResult<W>;
}
