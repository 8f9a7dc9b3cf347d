/**
 * The window operators built on `window`: fold, reduce, collect, count, max, min.
 *
 * Each has two forms: given the upstream stream it returns `{ down, late, meta }`; given only
 * options (with `late`) it is pipeable and returns the results.
 *
 * @module
 */
import { type KeyedStream, Stream } from "../dataflow/dataflow.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { checkStepId, describeType } from "../dataflow/step_id.ts";
import { checkStream } from "../operators/_check_stream.ts";
import { keyOn } from "../operators/key_on.ts";
import { step } from "../operators/step.ts";
import {
  checkLatePolicy,
  type PipeableWindowOptions,
  window,
  type WindowBuilder,
  type WindowLogic,
  type WindowOptions,
  type WindowOut,
  windowStreams,
} from "./window.ts";
import { EMPTY, FoldLogic } from "./_fold_logic.ts";

/** Options of {@linkcode foldWindow}. */
export interface FoldWindowOptions<V, A> extends WindowOptions<V> {
  /** A window's initial accumulator. */
  readonly builder: () => A;
  /** Folds a value into a window's accumulator. */
  readonly folder: (acc: A, value: V) => A;
  /** Combines two accumulators when session windows merge (earlier window first). */
  readonly merger: (acc: A, other: A) => A;
  /** Copies an accumulator for early results, when the folder mutates it (default: none). */
  readonly copy?: (acc: A) => A;
}

/** The upstream of a window operator's stream form: a keyed stream of `V` values. */
export type WindowUpstream<V> = KeyedStream<V> | Stream<readonly [string, V]>;

/**
 * A window operator's pipeable form: takes `[key, value]` items and emits each closed window's
 * results as `[key, [windowId, result]]`.
 */
export type WindowOperator<V, W> = WeirOperator<readonly [string, V], [string, [number, W]]>;

/**
 * Tells the stream form `(stepId, up, options)` from the pipeable form `(stepId, options)`:
 * with options as the third argument, `up` must be a Stream (a TypeError says so otherwise,
 * rather than taking it for the options); with a Stream, the options must follow.
 */
function isStreamForm(op: string, stepId: string, up: unknown, maybeOptions: unknown): boolean {
  if (up instanceof Stream) {
    if (maybeOptions === null || typeof maybeOptions !== "object") {
      throw new TypeError(
        `${op}("${stepId}"): options must be an options object, got ${describeType(maybeOptions)}`,
      );
    }
    return true;
  }
  if (maybeOptions !== undefined) checkStream(op, stepId, "up", up);
  return false;
}

/** Dispatches to the stream form or the pipeable form of `window`. */
function windowed<V, W, S>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | PipeableWindowOptions<V>,
  options: WindowOptions<V> | undefined,
  builder: (opts: WindowOptions<V>) => WindowBuilder<V, W, S>,
): WindowOut<V, W> | WindowOperator<V, W> {
  if (upOrOptions instanceof Stream) {
    return window(stepId, upOrOptions as WindowUpstream<V>, options!, builder(options!));
  }
  const opts = upOrOptions as PipeableWindowOptions<V>;
  return window(stepId, opts, builder(opts));
}

/**
 * Folds each window's values into an accumulator and emits it when the window closes: `[key,
 * [windowId, acc]]`. Sessions that merge combine their accumulators with `merger`. Like
 * Bytewax's `fold_window`.
 *
 * @example Counting event types per 10-second window
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { EventClock, foldWindow, TumblingWindower } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * type Ev = { type: string; t: number };
 * const events: [string, Ev][] = [["u", { type: "login", t: 0 }], ["u", { type: "post", t: 4_000 }], ["u", { type: "post", t: 16_000 }]];
 * const flow = new Dataflow("fold_window_demo");
 * const { down } = foldWindow("counts", flow.input("inp", new TestingSource(events)), {
 *   clock: new EventClock((e: Ev) => e.t, { waitFor: 0 }),
 *   windower: new TumblingWindower(10_000, 0),
 *   builder: (): Record<string, number> => ({}),
 *   folder: (acc, e) => ({ ...acc, [e.type]: (acc[e.type] ?? 0) + 1 }),
 *   merger: (a, b) => ({ ...a, ...b }),
 * });
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["u", [0, { login: 1, post: 1 }]], ["u", [1, { post: 1 }]]]);
 * ```
 */
export function foldWindow<V, A>(
  stepId: string,
  up: WindowUpstream<V>,
  options: FoldWindowOptions<V, A>,
): WindowOut<V, A>;
/** The pipeable form. */
export function foldWindow<V, A>(
  stepId: string,
  options: FoldWindowOptions<V, A> & PipeableWindowOptions<V>,
): WindowOperator<V, A>;
export function foldWindow<V, A>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (FoldWindowOptions<V, A> & PipeableWindowOptions<V>),
  maybeOptions?: FoldWindowOptions<V, A>,
): WindowOut<V, A> | WindowOperator<V, A> {
  isStreamForm("foldWindow", stepId, upOrOptions, maybeOptions);
  return windowed<V, A, { acc: A }>(stepId, upOrOptions, maybeOptions, (o) => {
    const { builder, folder, merger, copy } = o as FoldWindowOptions<V, A>;
    return (resume) =>
      new FoldLogic(resume === undefined ? builder() : resume.acc, folder, merger, copy);
  });
}

/** Options of {@linkcode reduceWindow}. */
export interface ReduceWindowOptions<V> extends WindowOptions<V> {
  /** Combines the accumulator with the next value (also used to merge sessions). */
  readonly reducer: (acc: V, value: V) => V;
}

class ReduceLogic<V> implements WindowLogic<V, V, { acc: V | undefined; has: boolean }> {
  has = false;
  acc: V | undefined = undefined;
  constructor(private readonly reducer: (acc: V, value: V) => V) {}
  onValue(value: V): Iterable<V> {
    this.acc = this.has ? this.reducer(this.acc as V, value) : value;
    this.has = true;
    return EMPTY;
  }
  onMerge(original: WindowLogic<V, V, unknown>): Iterable<V> {
    const o = original as ReduceLogic<V>;
    if (o.has) this.onValue(o.acc as V);
    return EMPTY;
  }
  onClose(): Iterable<V> {
    return this.has ? [this.acc as V] : EMPTY;
  }
  onEarly(): Iterable<V> {
    return this.onClose();
  }
  snapshot(): { acc: V | undefined; has: boolean } {
    return { acc: this.acc, has: this.has };
  }
}

/**
 * Reduces each window's values (the first value is the initial accumulator) and emits the
 * result at close. Values are applied as they arrive (`ordered` defaults to false), so the
 * reducer should be commutative. Like Bytewax's `reduce_window`.
 *
 * @example Sum per window
 * ```ts
 * import { Dataflow, EventClock, reduceWindow, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("reduce_window_demo");
 * const items: [string, [number, number]][] = [["a", [0, 1]], ["a", [4_000, 1]], ["a", [12_000, 1]]];
 * const out: unknown[] = [];
 * flow.input("inp", new TestingSource(items)).pipe(
 *   reduceWindow("sum", {
 *     clock: new EventClock((v: [number, number]) => v[0], { waitFor: 0 }),
 *     windower: new TumblingWindower(10_000, 0),
 *     reducer: (a, b) => [a[0], a[1] + b[1]],
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, [0, 2]]], ["a", [1, [12_000, 1]]]]);
 * ```
 */
export function reduceWindow<V>(
  stepId: string,
  up: WindowUpstream<V>,
  options: ReduceWindowOptions<V>,
): WindowOut<V, V>;
/** The pipeable form. */
export function reduceWindow<V>(
  stepId: string,
  options: ReduceWindowOptions<V> & PipeableWindowOptions<V>,
): WindowOperator<V, V>;
export function reduceWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ReduceWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: ReduceWindowOptions<V>,
): WindowOut<V, V> | WindowOperator<V, V> {
  isStreamForm("reduceWindow", stepId, upOrOptions, maybeOptions);
  const withDefault = <O extends WindowOptions<V>>(o: O): O => ({ ordered: false, ...o });
  const up = upOrOptions instanceof Stream ? upOrOptions : withDefault(upOrOptions);
  const opts = maybeOptions === undefined ? undefined : withDefault(maybeOptions);
  return windowed<V, V, { acc: V | undefined; has: boolean }>(stepId, up, opts, (o) => {
    const { reducer } = o as ReduceWindowOptions<V>;
    return (resume) => {
      const l = new ReduceLogic(reducer);
      if (resume !== undefined) {
        l.acc = resume.acc;
        l.has = resume.has;
      }
      return l;
    };
  });
}

/** Options of {@linkcode maxWindow} and {@linkcode minWindow}. */
export interface ExtremeWindowOptions<V> extends WindowOptions<V> {
  /** What to compare (default: the value itself). */
  readonly by?: (value: V) => number | string | bigint;
}

/**
 * Emits each window's largest value (compared by `by`) at close. Like Bytewax's `max_window`,
 * including ties: values are applied as they arrive (`ordered` defaults to false), so among
 * equal values the first to arrive wins, whatever its timestamp. With `ordered: true` values
 * are applied in timestamp order once the watermark passes them, and the earliest wins.
 *
 * @example
 * ```ts
 * import { Dataflow, EventClock, maxWindow, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("max_window_demo");
 * const out: unknown[] = [];
 * flow.input("inp", new TestingSource<[string, number]>([["a", 1], ["a", 9], ["a", 3]])).pipe(
 *   maxWindow("max", {
 *     clock: new EventClock((v: number) => v, { waitFor: 10_000 }), // values double as timestamps
 *     windower: new TumblingWindower(1_000, 0),
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 9]]]);
 * ```
 */
export function maxWindow<V>(
  stepId: string,
  up: WindowUpstream<V>,
  options: ExtremeWindowOptions<V>,
): WindowOut<V, V>;
/** The pipeable form. */
export function maxWindow<V>(
  stepId: string,
  options: ExtremeWindowOptions<V> & PipeableWindowOptions<V>,
): WindowOperator<V, V>;
export function maxWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ExtremeWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: ExtremeWindowOptions<V>,
): WindowOut<V, V> | WindowOperator<V, V> {
  isStreamForm("maxWindow", stepId, upOrOptions, maybeOptions);
  return extreme(stepId, upOrOptions, maybeOptions, 1);
}

/**
 * Emits each window's smallest value (compared by `by`) at close. Like Bytewax's `min_window`,
 * including ties: values are applied as they arrive (`ordered` defaults to false), so among
 * equal values the first to arrive wins, whatever its timestamp. With `ordered: true` values
 * are applied in timestamp order once the watermark passes them, and the earliest wins.
 *
 * @example
 * ```ts
 * import { Dataflow, EventClock, minWindow, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("min_window_demo");
 * const out: unknown[] = [];
 * flow.input("inp", new TestingSource<[string, number]>([["a", 4], ["a", 2], ["a", 3]])).pipe(
 *   minWindow("min", {
 *     clock: new EventClock((v: number) => v, { waitFor: 10_000 }),
 *     windower: new TumblingWindower(1_000, 0),
 *     late: "fail",
 *   }),
 * ).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 2]]]);
 * ```
 */
export function minWindow<V>(
  stepId: string,
  up: WindowUpstream<V>,
  options: ExtremeWindowOptions<V>,
): WindowOut<V, V>;
/** The pipeable form. */
export function minWindow<V>(
  stepId: string,
  options: ExtremeWindowOptions<V> & PipeableWindowOptions<V>,
): WindowOperator<V, V>;
export function minWindow<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ExtremeWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions?: ExtremeWindowOptions<V>,
): WindowOut<V, V> | WindowOperator<V, V> {
  isStreamForm("minWindow", stepId, upOrOptions, maybeOptions);
  return extreme(stepId, upOrOptions, maybeOptions, -1);
}

function extreme<V>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | (ExtremeWindowOptions<V> & PipeableWindowOptions<V>),
  maybeOptions: ExtremeWindowOptions<V> | undefined,
  sign: 1 | -1,
): WindowOut<V, V> | WindowOperator<V, V> {
  const opts = (upOrOptions instanceof Stream ? maybeOptions : upOrOptions) as ExtremeWindowOptions<
    V
  >;
  const by = opts.by ?? ((v: V) => v as unknown as number);
  // Keeps the accumulator unless the new value is strictly greater (smaller): among ties the
  // value applied first wins, which is the first to arrive unless `ordered` is set.
  const reducer = (a: V, b: V) => (sign > 0 ? (by(b) > by(a) ? b : a) : (by(b) < by(a) ? b : a));
  return upOrOptions instanceof Stream
    ? reduceWindow(stepId, upOrOptions, { ...opts, reducer })
    : reduceWindow(stepId, { ...(upOrOptions as PipeableWindowOptions<V>), reducer });
}

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

/** Options of {@linkcode countWindow}. */
export interface CountWindowOptions<T> extends WindowOptions<T> {
  /** The key of an item (the upstream is not keyed). */
  readonly keyFn: (item: T) => string;
}

/**
 * Counts the items of an unkeyed stream per key (`keyFn`) and window, emitting `[key,
 * [windowId, count]]` at close. The clock sees the items. Like Bytewax's `count_window`.
 *
 * Given the upstream stream it returns `{ down, late, meta, early }`; given only options (with
 * `late`) it is pipeable on the unkeyed stream and returns the counts, like the other window
 * operators' pipeable forms. Its substeps are then `key` (keyOn) and `count` (the window).
 *
 * @example Counting logins per user and 10-second window
 * ```ts
 * import { countWindow, Dataflow, EventClock, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type E = { user: string; t: number };
 * const evs: E[] = [{ user: "a", t: 0 }, { user: "a", t: 4_000 }, { user: "b", t: 8_000 }, { user: "a", t: 12_000 }];
 * const flow = new Dataflow("count_window_demo");
 * const { down } = countWindow("count", flow.input("inp", new TestingSource(evs)), {
 *   clock: new EventClock((e: E) => e.t, { waitFor: 0 }),
 *   windower: new TumblingWindower(10_000, 0),
 *   keyFn: (e) => e.user,
 * });
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 2]], ["a", [1, 1]], ["b", [0, 1]]]);
 * ```
 *
 * @example Inside pipe
 * ```ts
 * import { countWindow, Dataflow, EventClock, TumblingWindower } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type E = { user: string; t: number };
 * const evs: E[] = [{ user: "a", t: 0 }, { user: "b", t: 4_000 }, { user: "a", t: 12_000 }];
 * const flow = new Dataflow("count_pipe_demo");
 * const out: [string, [number, number]][] = [];
 * flow.input("inp", new TestingSource(evs))
 *   .pipe(countWindow("count", {
 *     clock: new EventClock((e: E) => e.t, { waitFor: 0 }),
 *     windower: new TumblingWindower(10_000, 0),
 *     keyFn: (e) => e.user,
 *     late: "drop",
 *   }))
 *   .output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [["a", [0, 1]], ["a", [1, 1]], ["b", [0, 1]]]);
 * ```
 */
export function countWindow<T>(
  stepId: string,
  up: Stream<T>,
  options: CountWindowOptions<T>,
): WindowOut<T, number>;
/** The pipeable form: takes the unkeyed items, emits `[key, [windowId, count]]`. */
export function countWindow<T>(
  stepId: string,
  options: CountWindowOptions<T> & PipeableWindowOptions<T>,
): WeirOperator<T, [string, [number, number]]>;
export function countWindow<T>(
  stepId: string,
  upOrOptions: Stream<T> | (CountWindowOptions<T> & PipeableWindowOptions<T>),
  maybeOptions?: CountWindowOptions<T>,
): WindowOut<T, number> | WeirOperator<T, [string, [number, number]]> {
  const count = (resume: { acc: number } | undefined) =>
    new FoldLogic(resume?.acc ?? 0, (n: number) => n + 1, (a: number, b: number) => a + b);
  if (!isStreamForm("countWindow", stepId, upOrOptions, maybeOptions)) {
    checkStepId(stepId);
    const options = upOrOptions as CountWindowOptions<T> & PipeableWindowOptions<T>;
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `countWindow("${stepId}"): options must be an options object, got ${describeType(options)}`,
      );
    }
    checkLatePolicy(stepId, options.late);
    return step(
      stepId,
      keyOn("key", options.keyFn),
      window("count", { ordered: false, ...options }, count),
    );
  }
  const up = upOrOptions as Stream<T>;
  const options = maybeOptions!;
  checkStream("countWindow", stepId, "up", up);
  return up.flow.composite(
    stepId,
    "countWindow",
    (scope) =>
      windowStreams<T, number, { acc: number }>(
        scope,
        scope.pipe(up, keyOn("key", options.keyFn)),
        { ordered: false, ...options },
        count,
      ),
  );
}
