/**
 * statefulMap: a keyed running state, one output per item.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { describeType } from "../dataflow/step_id.ts";
import { checkFunction, preview } from "./_chain.ts";
import { DISCARD_NOTHING, type PerValueLogic } from "./_per_value_logic.ts";
import {
  type LogicContext,
  type LogicResult,
  NOTHING,
  statefulBatch,
  type StatefulOptions,
} from "./stateful_batch.ts";

/**
 * For each `[key, value]`, calls `mapper(state, value)` → `[newState, output]` and emits
 * `[key, output]`; like RxJS `scan`, but keyed and snapshotted. Like Bytewax's
 * `stateful_map`.
 *
 * 1. A key's first value sees `state === undefined`, or `options.init` when given.
 * 2. The returned state is kept for the key's next value (and snapshotted at epoch ends).
 * 3. Returning `undefined` (or `null`) as the state discards it: the next value starts from
 *    `undefined` (or `init`) again; so does a key whose state expired (`ttl`).
 *
 * With `init`, like RxJS `scan(accumulator, seed)`, the state's type is inferred from `init`,
 * so the mapper's parameters need no annotation inside `pipe` (the value's type comes from the
 * upstream stream), and the mapper never sees `undefined`. `init` is the state itself or a
 * function making it, called once per new key: use a function when the mapper mutates an
 * object state, which would otherwise be shared by all keys. Without `init`, annotate the
 * state parameter (`(acc: number | undefined, v) => …`): TypeScript cannot infer a state type
 * from the mapper's own return value.
 *
 * A mapper that does not return a 2-element array fails the run, naming the step and key.
 *
 * @param stepId The step's name.
 * @param mapper `(state, value) => [newState | undefined, output]`.
 * @param options Initial state, state TTL.
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
 *
 * @example A running sum per key, its type inferred from `init`
 * ```ts
 * import { Dataflow, statefulMap } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, string][] = [];
 * const flow = new Dataflow("sum");
 * flow.input("inp", new TestingSource([["a", 1], ["b", 10], ["a", 2]]))
 *   .pipe(statefulMap("sum", (sum, v) => [sum + v, `${sum} + ${v}`], { init: 0 }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", "0 + 1"], ["b", "0 + 10"], ["a", "1 + 2"]]);
 * ```
 */
export function statefulMap<V, W, S>(
  stepId: string,
  mapper: (state: S, value: V) => readonly [S | undefined | null, W],
  options: StatefulMapInit<S>,
): WeirOperator<readonly [string, V], [string, W]>;
/** Without an initial state: a key's first value sees `undefined` (annotate the state). */
export function statefulMap<V, W, S>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, W],
  options?: StatefulOptions,
): WeirOperator<readonly [string, V], [string, W]>;
export function statefulMap<V, W, S>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, W],
  options: StatefulOptions & { readonly init?: S | (() => S) } = {},
): WeirOperator<readonly [string, V], [string, W]> {
  checkFunction("statefulMap", stepId, "a mapper", mapper);
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `statefulMap("${stepId}"): options must be an options object, got ${describeType(options)}`,
    );
  }
  const hasInit = "init" in options && options.init !== undefined;
  if (!hasInit) {
    return statefulBatch<V, W, S | undefined>(
      stepId,
      (resume, ctx) => new MapLogic(mapper, resume, ctx, undefined),
      options,
    );
  }
  const init = options.init as S | (() => S);
  const initial = typeof init === "function" ? init as () => S : () => init;
  return statefulBatch<V, W, S | undefined>(
    stepId,
    (resume, ctx) => new MapLogic(mapper, resume, ctx, initial),
    options,
  );
}

/** Options of {@linkcode statefulMap} with an initial state. */
export interface StatefulMapInit<S> extends StatefulOptions {
  /**
   * A key's state before its first value (and after a discard): the state itself, or a
   * function making it per key (states are plain data, so a function is never a state).
   */
  readonly init: S | (() => S);
}

/** One key of statefulMap. */
class MapLogic<V, W, S> implements PerValueLogic<V, W, S | undefined> {
  constructor(
    private readonly mapper: (state: S | undefined, value: V) => readonly [S | undefined | null, W],
    private state: S | undefined,
    private readonly ctx: LogicContext,
    /** Makes a new or discarded key's state (`options.init`), if given. */
    private readonly initial: (() => S) | undefined,
  ) {}

  /** One value (the per-value path: no values, outputs or result arrays). */
  mapValue(value: V): W {
    let state = this.state;
    if (state === undefined && this.initial !== undefined) state = this.initial();
    const r = this.mapper(state, value);
    if (!Array.isArray(r) || r.length !== 2) {
      this.state = state;
      throw new DataflowError(
        this.ctx.stepId,
        `Mapper must return a 2-element array [updatedState, emit], got ${preview(r)}`,
        { key: this.ctx.key },
      );
    }
    this.state = r[0] ?? undefined;
    return r[1];
  }

  /** After the activation's values: a key whose state is undefined is discarded. */
  onValuesEnd(): LogicResult<W> {
    return this.state === undefined ? DISCARD_NOTHING : NOTHING;
  }

  onBatch(values: V[]): LogicResult<W> {
    const out = new Array<W>(values.length);
    for (let i = 0; i < values.length; i++) out[i] = this.mapValue(values[i]!);
    return [out, this.state === undefined];
  }

  snapshot(): S | undefined {
    return this.state;
  }
}
