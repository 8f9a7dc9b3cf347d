/**
 * join: joins several keyed streams by key.
 *
 * @module
 */
import type { KeyedStream, Stream } from "../dataflow/dataflow.ts";
import {
  checkJoinArgs,
  checkJoinModes,
  type JoinEmitMode,
  type JoinInsertMode,
  JoinState,
  type SideValue,
  tagAndMerge,
} from "./_join_state.ts";
import { DISCARD, NOTHING, RETAIN, statefulBatch, type StatefulOptions } from "./stateful_batch.ts";

export { type JoinEmitMode, type JoinInsertMode, joinTuples } from "./_join_state.ts";

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

/**
 * Joins keyed streams by key and emits `[key, [v0, v1, …]]` with one value per side, in the
 * order of `sides`. Like Bytewax's `join`:
 *
 * 1. Each side's values are kept per key according to `insertMode` (`"last"` by default).
 * 2. `emitMode` decides when tuples are emitted: `"complete"` (default) once every side has a
 *    value, then the key's state is cleared; `"final"` at EOF; `"running"` on every value,
 *    with `undefined` for missing sides, keeping the state.
 *
 * `"complete"` suits one-to-one joins. For enrichment (every order with its customer) it is a
 * trap: the first order uses up the customer, so the next order of that customer is not joined
 * until another customer record arrives, and at EOF not at all. Use `emitMode: "running"` with
 * `insertMode: "last"` and keep the tuples that have every side; a customer update then
 * re-emits the customer's last order with the new value (README, "Joins";
 * `examples/join_enrich.ts`).
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
 *
 * @example Enriching every order with its customer
 * ```ts
 * import { Dataflow, join } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 * import { filter } from "rxjs";
 *
 * const flow = new Dataflow("enrich_demo");
 * const customers = flow.input("customers", new TestingSource<[string, string]>([["c1", "ann"]]));
 * const orders = flow.input("orders", new TestingSource<[string, number]>([["c1", 5], ["c1", 7]]));
 * const out: [string, [number | undefined, string | undefined]][] = [];
 * join("enrich", [orders, customers], { emitMode: "running", insertMode: "last" })
 *   .pipe(filter(([, [order, customer]]) => order !== undefined && customer !== undefined))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["c1", [5, "ann"]], ["c1", [7, "ann"]]]); // "complete": only the first
 * ```
 */
export function join<const T extends readonly Stream<readonly [string, unknown]>[]>(
  stepId: string,
  sides: T,
  options: JoinOptions = {},
): KeyedStream<JoinedValues<T>> {
  const flow = checkJoinArgs("join", stepId, sides, options);
  const insertMode = options.insertMode ?? "last";
  const emitMode = options.emitMode ?? "complete";
  checkJoinModes("join", stepId, insertMode, emitMode);
  const n = sides.length;
  return flow.composite(stepId, "join", (scope) => {
    return scope.pipe(
      tagAndMerge(scope, sides),
      statefulBatch<SideValue, unknown[], unknown[][]>("join", (resume) => {
        const state = new JoinState(n, insertMode, emitMode, resume);
        return {
          onBatch(values) {
            const out: unknown[][] = [];
            for (const [i, v] of values) out.push(...state.insert(i, v));
            return [out, emitMode !== "running" && state.isEmpty() ? DISCARD : RETAIN];
          },
          onEof: () =>
            emitMode === "final" && !state.isEmpty() ? [state.tuples(), DISCARD] : NOTHING,
          snapshot: () => state.snapshot(),
        };
      }, options),
    ) as unknown as KeyedStream<JoinedValues<T>>;
  });
}
