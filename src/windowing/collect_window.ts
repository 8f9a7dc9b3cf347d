/**
 * collectWindow: collects each window's values into an array, a Set or a Map, as a `foldWindow`.
 *
 * @module
 */
import { Stream } from "../dataflow/dataflow.ts";
import type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";
import { isStreamForm, type WindowOperator, type WindowUpstream } from "./window_forms.ts";
import { foldWindow } from "./fold_window.ts";

/** What {@linkcode collectWindow} collects into. */
export type CollectInto = "array" | "set" | "map";

/**
 * What {@linkcode collectWindow} emits per window for values `V` collected into `I`: `V[]` for
 * `"array"`, `Set<V>` for `"set"`, `Map<K, W>` for `"map"` of `[K, W]` values (`Map<unknown,
 * unknown>` when `V` is an array type rather than a pair, `never` when it is no array).
 */
export type Collected<V, I extends CollectInto> = I extends "array" ? V[]
  : I extends "set" ? Set<V>
  : V extends readonly [infer K, infer W] ? Map<K, W>
  : V extends readonly unknown[] ? Map<unknown, unknown>
  : never;

/** Options of {@linkcode collectWindow}. */
export interface CollectWindowOptions<V, I extends CollectInto = CollectInto>
  extends WindowOptions<V> {
  /** `"array"` (default, in timestamp order when ordered), `"set"`, or `"map"` of `[k, v]` values. */
  readonly into?: I;
}

/**
 * Collects each window's values into an array (default), a Set, or a Map (values must be
 * `[key, value]` pairs; later keys overwrite) and emits it at close. Like Bytewax's
 * `collect_window`. The result's type follows `into` (see {@linkcode Collected}).
 *
 * @example Values in timestamp order
 * ```ts
 * import { collectWindow, Dataflow, EventClock, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type E = { t: number; v: number };
 * const items: [string, E][] = [{ t: 0, v: 1 }, { t: 8_000, v: 3 }, { t: 4_000, v: 2 }, { t: 13_000, v: 5 }]
 *   .map((e) => ["ALL", e]);
 * const flow = new Dataflow("collect_window_demo");
 * const out: [string, [number, E[]]][] = [];
 * flow.input("inp", new TestingSource(items)).pipe(
 *   collectWindow("collect", {
 *     clock: new EventClock((e: E) => e.t, { waitFor: Infinity }),
 *     windower: new TumblingWindower(10_000, 0),
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out.map(([, [id, es]]) => [id, es.map((e) => e.v)]), [[0, [1, 2, 3]], [1, [5]]]);
 * ```
 *
 * @example Into a Map of the last value per name
 * ```ts
 * import { collectWindow, Dataflow, EventClock, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("collect_map_demo");
 * const { down } = collectWindow("last", flow.input("inp", new TestingSource([
 *   ["k", ["temp", 20]],
 *   ["k", ["temp", 21]],
 *   ["k", ["wind", 5]],
 * ])), {
 *   clock: new EventClock(() => 0, { waitFor: Infinity }),
 *   windower: new TumblingWindower(1_000, 0),
 *   into: "map",
 * });
 * const out: [string, [number, Map<string, number>]][] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["k", [0, new Map([["temp", 21], ["wind", 5]])]]]);
 * ```
 */
export function collectWindow<V, I extends CollectInto = "array">(
  stepId: string,
  up: WindowUpstream<V>,
  options: CollectWindowOptions<V, I>,
): WindowOut<V, Collected<V, I>>;
/** The pipeable form. */
export function collectWindow<V, I extends CollectInto = "array">(
  stepId: string,
  options: CollectWindowOptions<V, I> & PipeableWindowOptions<V>,
): WindowOperator<V, Collected<V, I>>;
export function collectWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (CollectWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: CollectWindowOptions<V>,
):
  | WindowOut<V, V[] | Set<V> | Map<unknown, unknown>>
  | WindowOperator<V, V[] | Set<V> | Map<unknown, unknown>> {
  type C = V[] | Set<V> | Map<unknown, unknown>;
  isStreamForm("collectWindow", stepId, upOrOptions, maybeOptions);
  const opts = (upOrOptions instanceof Stream ? maybeOptions : upOrOptions) as CollectWindowOptions<
    V
  >;
  const into = opts.into ?? "array";
  if (into !== "array" && into !== "set" && into !== "map") {
    throw new RangeError(
      `collectWindow("${stepId}"): into must be "array", "set" or "map", got "${into}"`,
    );
  }
  const builder = (): C => (into === "array" ? [] : into === "set" ? new Set<V>() : new Map());
  const folder = (acc: C, v: V): C => {
    if (Array.isArray(acc)) acc.push(v);
    else if (acc instanceof Set) acc.add(v);
    else {
      if (!Array.isArray(v) || v.length !== 2) {
        throw new TypeError(`collectWindow into "map" needs [key, value] values, got ${String(v)}`);
      }
      acc.set(v[0], v[1]);
    }
    return acc;
  };
  const merger = (a: C, b: C): C => {
    if (Array.isArray(a)) a.push(...(b as V[]));
    else if (a instanceof Set) { for (const v of b as Set<V>) a.add(v); }
    else for (const [k, v] of b as Map<unknown, unknown>) a.set(k, v);
    return a;
  };
  const copy = (acc: C): C =>
    Array.isArray(acc) ? [...acc] : acc instanceof Set ? new Set(acc) : new Map(acc);
  const fold = { builder, folder, merger, copy };
  return upOrOptions instanceof Stream
    ? foldWindow<V, C>(stepId, upOrOptions, { ...opts, ...fold })
    : foldWindow<V, C>(stepId, { ...(upOrOptions as PipeableWindowOptions<V>), ...fold });
}
