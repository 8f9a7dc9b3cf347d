/**
 * maxFinal: each key's largest value, emitted at EOF.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { reduceFinal } from "./reduce_final.ts";
import type { StatefulOptions } from "./stateful_batch.ts";

/**
 * Emits `[key, value]` at EOF with each key's largest value, compared by `by(value)` (default:
 * the value itself); the whole value is emitted, the first one wins ties. Like Bytewax's
 * `max_final`.
 *
 * @param stepId The step's name.
 * @param by Extracts what to compare.
 * @param options State TTL.
 *
 * @example
 * ```ts
 * import { Dataflow, maxFinal } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type Score = { user: string; val: number };
 * const scores: [string, Score][] = [1, 9, 3].map((val) => ["a", { user: "a", val }]);
 * const out: [string, Score][] = [];
 * const flow = new Dataflow("max_demo");
 * flow.input("inp", new TestingSource(scores))
 *   .pipe(maxFinal("best", (s: Score) => s.val))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", { user: "a", val: 9 }]]);
 * ```
 */
export function maxFinal<V>(
  stepId: string,
  by: (value: V) => number | string | bigint = (v) => v as unknown as number,
  options: StatefulOptions = {},
): WeirOperator<readonly [string, V], [string, V]> {
  return reduceFinal<V>(stepId, (a, b) => (by(b) > by(a) ? b : a), options);
}
