/**
 * join: joins several keyed streams by key.
 *
 * @module
 */
import type { KeyedStream, Stream } from "../dataflow/dataflow.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import { mapValue } from "./map_value.ts";
import { DISCARD, NOTHING, RETAIN, statefulBatch, type StatefulOptions } from "./stateful_batch.ts";

/**
 * Which values of a side a join keeps: the `"first"`, the `"last"` (latest), or all of them
 * (`"product"`: the join emits the cross product of every side's values).
 */
export type JoinInsertMode = "first" | "last" | "product";

/**
 * When a join emits: once every side has a value, then the key's state is cleared
 * (`"complete"`); only at EOF (`"final"`); or on every value, with `undefined` for sides not
 * seen yet, keeping the state (`"running"`).
 */
export type JoinEmitMode = "complete" | "final" | "running";

/** Options of {@linkcode join}. */
export interface JoinOptions extends StatefulOptions {
  /** Default `"last"`. */
  readonly insertMode?: JoinInsertMode;
  /** Default `"complete"`. */
  readonly emitMode?: JoinEmitMode;
}

/** The joined tuple for sides `T`: each side's value type, or `undefined` when missing. */
export type JoinedValues<T extends readonly Stream<readonly [string, unknown]>[]> = {
  -readonly [I in keyof T]: T[I] extends Stream<readonly [string, infer V]> ? V | undefined
    : never;
};

/** Computes the joined tuples of one key's state: the cross product of the sides' values. */
export function joinTuples(sides: readonly (readonly unknown[])[]): unknown[][] {
  let out: unknown[][] = [[]];
  for (const values of sides) {
    const options = values.length > 0 ? values : [undefined];
    const next: unknown[][] = [];
    for (const prefix of out) for (const v of options) next.push([...prefix, v]);
    out = next;
  }
  return out;
}

/**
 * Joins keyed streams by key and emits `[key, [v0, v1, …]]` with one value per side, in the
 * order of `sides`. Like Bytewax's `join`:
 *
 * 1. Each side's values are kept per key according to `insertMode` (`"last"` by default).
 * 2. `emitMode` decides when tuples are emitted: `"complete"` (default) once every side has a
 *    value, then the key's state is cleared; `"final"` at EOF; `"running"` on every value,
 *    with `undefined` for missing sides, keeping the state.
 *
 * A composite: each side is tagged (`side_N`), the tagged streams merged (`merge`), and a
 * `statefulBatch` (`join`) keeps the state.
 *
 * @param stepId The step's name.
 * @param sides The keyed streams to join (at least one, all of one flow).
 * @param options Insert and emit modes, state TTL.
 * @returns The stream of joined tuples.
 *
 * @example Completing a join of two streams
 * ```ts
 * import { Dataflow, join } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("join_demo");
 * const names = flow.input("names", new TestingSource<[string, string]>([["1", "ann"], ["2", "bob"]]));
 * const ages = flow.input("ages", new TestingSource<[string, number]>([["1", 37], ["2", 41]]));
 * const out: [string, [string | undefined, number | undefined]][] = [];
 * join("people", [names, ages]).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["1", ["ann", 37]], ["2", ["bob", 41]]]);
 * ```
 */
export function join<T extends readonly Stream<readonly [string, unknown]>[]>(
  stepId: string,
  sides: T,
  options: JoinOptions = {},
): KeyedStream<JoinedValues<T>> {
  checkStepId(stepId);
  const insertMode = options.insertMode ?? "last";
  const emitMode = options.emitMode ?? "complete";
  if (!["first", "last", "product"].includes(insertMode)) {
    throw new RangeError(`join("${stepId}"): unknown join insert mode "${insertMode}"`);
  }
  if (!["complete", "final", "running"].includes(emitMode)) {
    throw new RangeError(`join("${stepId}"): unknown join emit mode "${emitMode}"`);
  }
  if (!Array.isArray(sides) || sides.length === 0) {
    throw new TypeError(`join("${stepId}") needs an array of at least one keyed stream`);
  }
  const n = sides.length;
  const flow = (sides[0] as Stream<unknown>).flow;
  return flow.composite(stepId, "join", (scope) => {
    const tagged = sides.map((side, i) =>
      scope.pipe(
        side as Stream<readonly [string, unknown]>,
        mapValue(`side_${i}`, (v: unknown) => [i, v] as const),
      )
    );
    const merged = scope.merge("merge", ...tagged);
    return scope.pipe(
      merged,
      statefulBatch<readonly [number, unknown], unknown[], unknown[][]>("join", (resume) => {
        let vals: unknown[][] = resume
          ? resume.map((v) => [...v])
          : Array.from({ length: n }, () => []);
        const complete = () => vals.every((v) => v.length > 0);
        const empty = () => vals.every((v) => v.length === 0);
        const clear = () => {
          vals = Array.from({ length: n }, () => []);
        };
        return {
          onBatch(values) {
            const out: unknown[][] = [];
            for (const [i, v] of values) {
              const side = vals[i]!;
              if (insertMode === "last") vals[i] = [v];
              else if (insertMode === "product" || side.length === 0) side.push(v);
              if (emitMode === "running") {
                out.push(...joinTuples(vals));
              } else if (emitMode === "complete" && complete()) {
                out.push(...joinTuples(vals));
                clear();
              }
            }
            return [out, emitMode !== "running" && empty() ? DISCARD : RETAIN];
          },
          onEof: () => emitMode === "final" && !empty() ? [joinTuples(vals), DISCARD] : NOTHING,
          snapshot: () => vals.map((v) => [...v]),
        };
      }, options),
    ) as unknown as KeyedStream<JoinedValues<T>>;
  });
}
