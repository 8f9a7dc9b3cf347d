/**
 * The window driver: one composition of `statefulBatch` under every window operator.
 *
 * @module
 */
import { type KeyedStream, type Scope, Stream } from "../dataflow/dataflow.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { DataflowError } from "../errors.ts";
import { filterMap } from "../operators/filter_map.ts";
import { chainStep } from "../operators/_chain.ts";
import { checkStream } from "../operators/_check_stream.ts";
import { step } from "../operators/step.ts";
import {
  DISCARD,
  type LogicBuilder,
  type LogicContext,
  type LogicResult,
  NOTHING,
  RETAIN,
  statefulBatch,
  type StatefulBatchLogic,
  type StatefulOptions,
} from "../operators/stateful_batch.ts";
import { type PerValueLogic, QUIET } from "../operators/_per_value_logic.ts";
import {
  type ClockLogic,
  EventClock,
  type EventClockState,
  eventTime,
  type WindowClock,
} from "./clocks.ts";
import {
  type SlidingState,
  SlidingWindower,
  type Windower,
  type WindowerLogic,
  type WindowMetadata,
} from "./windowers.ts";
import { FoldLogic } from "./_fold_logic.ts";

/**
 * The logic of one window of one key. Built by the window operator's `builder` when an item
 * first falls into the window (or from its snapshot on resume).
 *
 * @typeParam V The values.
 * @typeParam W What the window emits.
 * @typeParam S Its snapshot.
 */
export interface WindowLogic<V, W, S> {
  /** Applies a value that falls into the window (in timestamp order when `ordered`). */
  onValue(value: V): Iterable<W>;
  /** Absorbs `original`, a window merged into this one (sessions). */
  onMerge(original: WindowLogic<V, W, S>): Iterable<W>;
  /** The window closed: emit its result. */
  onClose(): Iterable<W>;
  /**
   * Optional: the window's current partial result, for early results (`options.early`).
   * Return copies of mutable state: the window keeps changing after this call.
   */
  onEarly?(): Iterable<W>;
  /** The state to snapshot. */
  snapshot(): S;
}

/** How an item that arrived after the watermark is handled by the pipeable forms. */
export type LatePolicy<V> =
  | "drop"
  | "fail"
  | ((key: string, windowId: number, value: V) => void);

/** Options of every window operator. */
export interface WindowOptions<V> extends StatefulOptions {
  /** Assigns timestamps and tracks the watermark, per key. */
  readonly clock: WindowClock<V>;
  /** Assigns items to windows and closes them. */
  readonly windower: Windower;
  /**
   * Apply values in timestamp order once the watermark passes them (default true); when
   * false, values are applied as they arrive (fine for commutative aggregations).
   */
  readonly ordered?: boolean;
  /**
   * Early results (stream form only, on the `early` stream): the current partial result of
   * each open window every `everyItems` values applied to it, and/or every `everyMs` ms of
   * system time (per key, while it has open windows). Needs `WindowLogic.onEarly`. The
   * counts and the timer are snapshotted with the key, so a resumed run keeps the cadence.
   */
  readonly early?: { readonly everyItems?: number; readonly everyMs?: number };
}

/** Options of the pipeable forms, which return only the results. */
export interface PipeableWindowOptions<V> extends WindowOptions<V> {
  /**
   * What to do with late items (strictly before the watermark): `"drop"` them, `"fail"` the
   * run, or call a function. Required, so late data is never lost without a decision.
   */
  readonly late: LatePolicy<V>;
}

/** The three streams of a window operator. */
export interface WindowOut<V, W> {
  /** `[key, [windowId, result]]`. */
  readonly down: KeyedStream<[number, W]>;
  /** `[key, [windowId, item]]` for items that arrived after the watermark. */
  readonly late: KeyedStream<[number, V]>;
  /** `[key, [windowId, metadata]]`, after the window's results, once per closed window. */
  readonly meta: KeyedStream<[number, WindowMetadata]>;
  /** `[key, [windowId, partial]]` early results of open windows (see `options.early`). */
  readonly early: KeyedStream<[number, W]>;
}

const DOWN = 0;
const LATE = 1;
const META = 2;
const EARLY = 3;

/** An event of the window driver: a result, a late item, or a window's metadata. */
type WindowEvent = readonly [tag: 0 | 1 | 2 | 3, windowId: number, payload: unknown];

/**
 * A key's windowing snapshot (what recovery stores per key; plain structured-clone data). Both
 * per-key logics, {@linkcode KeyWindows} and {@linkcode TumblingEventWindows}, write and read
 * this same shape, so either resumes from the other's snapshot.
 */
interface KeyWindowsState {
  /** The clock's snapshot (`EventClockState` for an `EventClock`). */
  readonly clock: unknown;
  /** The windower's snapshot (`SlidingState`, the open windows' ids, for sliding/tumbling). */
  readonly windower: unknown;
  /** `[windowId, WindowLogic.snapshot()]` per open window. */
  readonly windows: Array<[number, unknown]>;
  /** `[timestamp, value]` of the values waiting for the watermark (ordered mode). */
  readonly queue: Array<[number, unknown]>;
  /**
   * Early-results progress, present only with `options.early`: `since` holds
   * `[windowId, values applied since its last early result]`, `next` the system time the
   * next timed early results are due.
   */
  readonly early?: { readonly since: Array<[number, number]>; readonly next?: number };
}

/** Builds a window's logic, from its snapshot on resume. */
export type WindowBuilder<V, W, S> = (resumeState: S | undefined) => WindowLogic<V, W, S>;

class KeyWindows<V, W, S> implements PerValueLogic<V, WindowEvent, KeyWindowsState> {
  readonly #clock: ClockLogic<V, unknown>;
  readonly #windower: WindowerLogic<unknown>;
  readonly #windows = new Map<number, WindowLogic<V, W, S>>();
  /** Items waiting for the watermark (ordered mode), in arrival order. */
  #queue: Array<[number, V]> = [];
  #watermark = Number.NEGATIVE_INFINITY;
  /** Values applied per window since its last early result (`early.everyItems`). */
  readonly #sinceEarly = new Map<number, number>();
  /** When the next timed early results are due (`early.everyMs`), system time. */
  #nextEarly: number | undefined = undefined;

  // No constructor parameter properties: they would make V8 box every `#watermark` store.
  private readonly opts: WindowOptions<V>;
  private readonly builder: WindowBuilder<V, W, S>;
  private readonly ctx: LogicContext;

  constructor(
    opts: WindowOptions<V>,
    builder: WindowBuilder<V, W, S>,
    ctx: LogicContext,
    resume: KeyWindowsState | undefined,
  ) {
    this.opts = opts;
    this.builder = builder;
    this.ctx = ctx;
    this.#clock = opts.clock.build(resume?.clock, ctx.now()) as ClockLogic<V, unknown>;
    this.#windower = opts.windower.build(resume?.windower) as WindowerLogic<unknown>;
    for (const [id, s] of resume?.windows ?? []) this.#windows.set(id, builder(s as S));
    this.#queue = (resume?.queue ?? []) as Array<[number, V]>;
    if (resume?.early !== undefined) {
      for (const [id, n] of resume.early.since) this.#sinceEarly.set(id, n);
      this.#nextEarly = resume.early.next;
    }
  }

  onBatch(values: V[]): LogicResult<WindowEvent> {
    const out: WindowEvent[] = [];
    for (const v of values) this.#value(v, out);
    return this.#advance(out);
  }

  /** Per-value path: late routing and (unordered) application as each value arrives. */
  onValue(value: V): WindowEvent[] | undefined {
    const out = this.#pending;
    this.#value(value, out);
    if (out.length === 0) return undefined;
    this.#pending = [];
    return out;
  }

  /** After an activation's values: apply what the watermark passed, merge, close. */
  onValuesEnd(): LogicResult<WindowEvent> {
    return this.#advance([]);
  }

  /** Outputs of one value, reused while empty. */
  #pending: WindowEvent[] = [];

  #value(v: V, out: WindowEvent[]): void {
    this.#clock.beforeBatch(this.ctx.now());
    let ts: number;
    try {
      ts = this.#clock.onItem(v);
    } catch (err) {
      throw new DataflowError(this.ctx.stepId, "The clock failed on an item", {
        key: this.ctx.key,
        cause: err,
      });
    }
    const wm = this.#clock.watermark();
    if (wm > this.#watermark) this.#watermark = wm;
    if (ts < this.#watermark) {
      for (const id of this.#windower.lateFor(ts)) out.push([LATE, id, v]);
    } else if (this.opts.ordered ?? true) {
      this.#queue.push([ts, v]);
    } else {
      this.#apply(ts, v, out);
    }
  }

  onNotify(): LogicResult<WindowEvent> {
    const now = this.ctx.now();
    const wm = this.#clock.onNotify(now);
    if (wm > this.#watermark) this.#watermark = wm;
    const out: WindowEvent[] = [];
    const every = this.opts.early?.everyMs;
    if (every !== undefined && this.#nextEarly !== undefined && now >= this.#nextEarly) {
      for (const [id, logic] of this.#windows) this.#early(id, logic, out);
      this.#nextEarly = now + every;
    }
    return this.#advance(out);
  }

  #early(id: number, logic: WindowLogic<V, W, S>, out: WindowEvent[]): void {
    if (logic.onEarly === undefined) return;
    for (const w of logic.onEarly()) out.push([EARLY, id, w]);
  }

  onEof(): LogicResult<WindowEvent> {
    this.#watermark = this.#clock.onEof();
    return this.#advance([]);
  }

  notifyAt(): number | undefined {
    let at: number | undefined = this.#windows.size > 0 ? this.#nextEarly : undefined;
    const close = this.#windower.notifyAt();
    if (close !== undefined) {
      const t = this.#clock.toSystemTime(close);
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    if (this.#queue.length > 0) {
      let first = this.#queue[0]![0];
      for (const [ts] of this.#queue) if (ts < first) first = ts;
      const t = this.#clock.toSystemTime(first);
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  }

  snapshot(): KeyWindowsState {
    return {
      clock: this.#clock.snapshot(),
      windower: this.#windower.snapshot(),
      windows: [...this.#windows].map(([id, w]) => [id, w.snapshot()]),
      queue: this.#queue.map(([ts, v]) => [ts, v]),
      ...(this.opts.early === undefined ? {} : {
        early: {
          since: [...this.#sinceEarly],
          ...(this.#nextEarly === undefined ? {} : { next: this.#nextEarly }),
        },
      }),
    };
  }

  /** Applies due queued values, merges, closes windows; discards the key when nothing is left. */
  #advance(out: WindowEvent[]): LogicResult<WindowEvent> {
    if (this.#queue.length > 0) {
      const due: Array<[number, V]> = [];
      const rest: Array<[number, V]> = [];
      for (const e of this.#queue) (e[0] <= this.#watermark ? due : rest).push(e);
      if (due.length > 0) {
        this.#queue = rest;
        due.sort((a, b) => a[0] - b[0]); // stable: equal timestamps keep arrival order
        for (const [ts, v] of due) this.#apply(ts, v, out);
      }
    }
    for (const [original, target] of this.#windower.merged()) {
      const from = this.#windows.get(original);
      const into = this.#windows.get(target);
      this.#windows.delete(original);
      if (from === undefined) continue;
      if (into === undefined) {
        this.#windows.set(target, from);
        continue;
      }
      for (const w of into.onMerge(from)) out.push([DOWN, target, w]);
    }
    for (const [id, meta] of this.#windower.closeFor(this.#watermark)) {
      const logic = this.#windows.get(id);
      this.#windows.delete(id);
      this.#sinceEarly.delete(id);
      if (logic !== undefined) { for (const w of logic.onClose()) out.push([DOWN, id, w]); }
      out.push([META, id, meta]);
    }
    const idle = this.#windows.size === 0 && this.#queue.length === 0 && this.#windower.isEmpty();
    return out.length === 0 && !idle ? NOTHING : [out, idle ? DISCARD : RETAIN];
  }

  #apply(ts: number, v: V, out: WindowEvent[]): void {
    for (const id of this.#windower.openFor(ts)) {
      let logic = this.#windows.get(id);
      if (logic === undefined) {
        logic = this.builder(undefined);
        this.#windows.set(id, logic);
      }
      for (const w of logic.onValue(v)) out.push([DOWN, id, w]);
      const early = this.opts.early;
      if (early === undefined) continue;
      if (early.everyItems !== undefined) {
        const n = (this.#sinceEarly.get(id) ?? 0) + 1;
        if (n >= early.everyItems) {
          this.#sinceEarly.set(id, 0);
          this.#early(id, logic, out);
        } else {
          this.#sinceEarly.set(id, n);
        }
      }
      if (early.everyMs !== undefined && this.#nextEarly === undefined) {
        this.#nextEarly = this.ctx.now() + early.everyMs;
      }
    }
  }
}

/**
 * The fused per-key logic for the most common shape: an {@linkcode EventClock} and tumbling
 * windows (a {@linkcode SlidingWindower} with `offset = length`), without early results. It
 * behaves exactly like {@linkcode KeyWindows} with those two, but keeps the clock's state, the
 * windower's state and the open windows in this one object, so a value touches the key's entry,
 * this object and its window's logic — not a clock, a windower and their maps. The window that
 * took the last value is cached (`#hotId`/`#hot`), so consecutive values of a window skip the
 * map. Its snapshot is the same {@linkcode KeyWindowsState} (clock: `EventClockState`,
 * windower: `SlidingState`), so either logic resumes from the other's snapshot.
 */
class TumblingEventWindows<V, W, S> implements PerValueLogic<V, WindowEvent, KeyWindowsState> {
  // Numeric fields are initialised where they are declared, and the class has no constructor
  // parameter properties: with those, the emitted class first defines every field as
  // `undefined`, and V8 then boxes every double stored in it (an allocation per value).
  //
  // The clock (EventClockLogic's state).
  readonly #tsGetter: (value: V) => number | Date;
  readonly #waitFor: number;
  #base = Number.NEGATIVE_INFINITY;
  #systemTimeOfMax = 0.5;
  #now = 0.5;
  #eof = false;
  /** The driver's watermark (the clock's, never decreasing). */
  #watermark = Number.NEGATIVE_INFINITY;
  // The windower (SlidingLogic's state) and the windows.
  readonly #w: SlidingWindower;
  /** Open windows by id, in opening order, with their logic (built on the first value). */
  readonly #windows = new Map<number, WindowLogic<V, W, S> | undefined>();
  /** The earliest close time of the open windows (+Infinity when none). */
  #minClose = Number.POSITIVE_INFINITY;
  /** The window that took the last value (NaN: none), and its logic. */
  #hotId = Number.NaN;
  #hot: WindowLogic<V, W, S> | undefined = undefined;
  /**
   * When the hot window is a `FoldLogic` (foldWindow): the logic, and its accumulator, kept
   * here while the window is hot and written back (`#settleHot`) before anything reads it.
   */
  #hotFold: FoldLogic<V, unknown> | undefined = undefined;
  #hotAcc: unknown = undefined;
  #hotFolder: (acc: unknown, value: V) => unknown = noFolder;
  /** `ctx.now`, kept here so a value does not touch the key's context object. */
  readonly #nowFn: () => number;
  /** Items waiting for the watermark (ordered mode), in arrival order; created when needed. */
  #queue: Array<[number, V]> | undefined = undefined;
  readonly #ordered: boolean;
  /** Emit META events (not in the pipeable forms, which drop them). */
  readonly #meta: boolean;
  readonly #builder: WindowBuilder<V, W, S>;
  readonly #ctx: LogicContext;

  constructor(
    clock: EventClock<V>,
    windower: SlidingWindower,
    ordered: boolean,
    meta: boolean,
    builder: WindowBuilder<V, W, S>,
    ctx: LogicContext,
    resume: KeyWindowsState | undefined,
  ) {
    this.#ordered = ordered;
    this.#meta = meta;
    this.#builder = builder;
    this.#ctx = ctx;
    this.#nowFn = ctx.now;
    const now = ctx.now();
    this.#tsGetter = clock.tsGetter;
    this.#waitFor = clock.options.waitFor;
    const c = resume?.clock as EventClockState | undefined;
    this.#base = c?.base ?? Number.NEGATIVE_INFINITY;
    this.#systemTimeOfMax = c?.systemTimeOfMax ?? now;
    this.#now = Math.max(c?.now ?? now, now);
    this.#w = windower;
    for (const id of (resume?.windower ?? []) as SlidingState) this.#open(id);
    for (const [id, s] of resume?.windows ?? []) this.#windows.set(id, builder(s as S));
    if (resume !== undefined && resume.queue.length > 0) {
      this.#queue = resume.queue as Array<[number, V]>;
    }
  }

  #open(id: number): void {
    if (this.#windows.has(id)) return;
    const close = this.#w.alignTo + id * this.#w.offset + this.#w.length;
    this.#windows.set(id, undefined);
    if (close < this.#minClose) this.#minClose = close;
  }

  onBatch(values: V[]): LogicResult<WindowEvent> {
    let out: WindowEvent[] | undefined = undefined;
    for (const v of values) out = this.#value(v, out);
    return this.#advance(out);
  }

  onValue(value: V): WindowEvent[] | Iterable<never> | undefined {
    const out = this.#value(value, undefined);
    if (out !== undefined) return out;
    // Nothing to close or apply at the activation's end (what onValuesEnd would check).
    const queue = this.#queue;
    return this.#watermark < this.#minClose && this.#windows.size > 0 &&
        (queue === undefined || queue.length === 0)
      ? QUIET
      : undefined;
  }

  onValuesEnd(): LogicResult<WindowEvent> {
    return this.#advance(undefined);
  }

  /** One value: clock, then late / queued / applied. Returns `out`, created if needed. */
  #value(v: V, out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    const now = this.#nowFn();
    if (now > this.#now) this.#now = now;
    let ts: number;
    try {
      ts = eventTime(this.#tsGetter, v);
    } catch (err) {
      throw new DataflowError(this.#ctx.stepId, "The clock failed on an item", {
        key: this.#ctx.key,
        cause: err,
      });
    }
    const candidate = ts - this.#waitFor;
    if (!this.#eof && candidate > this.#base + (this.#now - this.#systemTimeOfMax)) {
      this.#base = candidate;
      this.#systemTimeOfMax = this.#now;
    }
    const wm = this.#eof
      ? Number.POSITIVE_INFINITY
      : this.#base + (this.#now - this.#systemTimeOfMax);
    if (wm > this.#watermark) this.#watermark = wm;
    if (ts < this.#watermark) {
      out ??= [];
      for (const id of this.#w.idsFor(ts)) out.push([LATE, id, v]);
    } else if (this.#ordered) {
      (this.#queue ??= []).push([ts, v]);
    } else {
      const id = Math.floor((ts - this.#w.alignTo) / this.#w.offset);
      if (id === this.#hotId && this.#hotFold !== undefined) {
        // The common case inline: FoldLogic.onValue, on the hot window's inline accumulator.
        this.#hotAcc = this.#hotFolder.call(this.#hotFold, this.#hotAcc, v);
      } else {
        out = this.#applyTo(id, v, out);
      }
    }
    return out;
  }

  #apply(ts: number, v: V, out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    return this.#applyTo(Math.floor((ts - this.#w.alignTo) / this.#w.offset), v, out);
  }

  /**
   * Applies `v` to window `id`. Takes the window's id, not the timestamp: passing a double
   * to a call that is not inlined boxes it (an allocation per value).
   */
  #applyTo(id: number, v: V, out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    let logic = this.#hot;
    if (id !== this.#hotId || logic === undefined) {
      this.#settleHot();
      logic = this.#windows.get(id);
      if (logic === undefined) {
        if (!this.#windows.has(id)) {
          const close = this.#w.alignTo + id * this.#w.offset + this.#w.length;
          if (close < this.#minClose) this.#minClose = close;
        }
        logic = this.#builder(undefined);
        this.#windows.set(id, logic);
      }
      this.#hotId = id;
      this.#hot = logic;
      if (logic.constructor === FoldLogic) {
        const fold = logic as FoldLogic<V, unknown>;
        this.#hotFold = fold;
        this.#hotAcc = fold.acc;
        this.#hotFolder = fold.folder;
      }
    }
    const fold = this.#hotFold;
    if (fold !== undefined) {
      this.#hotAcc = this.#hotFolder.call(fold, this.#hotAcc, v);
      return out;
    }
    const ws = logic.onValue(v);
    if (Array.isArray(ws)) {
      if (ws.length > 0) {
        out ??= [];
        for (let i = 0; i < ws.length; i++) out.push([DOWN, id, ws[i]]);
      }
    } else {
      for (const w of ws) (out ??= []).push([DOWN, id, w]);
    }
    return out;
  }

  /** Writes the hot fold's accumulator back to its logic and forgets the hot window. */
  #settleHot(): void {
    const fold = this.#hotFold;
    if (fold !== undefined) {
      fold.acc = this.#hotAcc;
      this.#hotFold = undefined;
      this.#hotAcc = undefined;
      this.#hotFolder = noFolder;
    }
    this.#hotId = Number.NaN;
    this.#hot = undefined;
  }

  onNotify(): LogicResult<WindowEvent> {
    const now = this.#nowFn();
    if (now > this.#now) this.#now = now;
    const wm = this.#eof
      ? Number.POSITIVE_INFINITY
      : this.#base + (this.#now - this.#systemTimeOfMax);
    if (wm > this.#watermark) this.#watermark = wm;
    return this.#advance(undefined);
  }

  onEof(): LogicResult<WindowEvent> {
    this.#eof = true;
    this.#watermark = Number.POSITIVE_INFINITY;
    return this.#advance(undefined);
  }

  /** The clock's `toSystemTime`. */
  #toSystemTime(ts: number): number | undefined {
    if (this.#base === Number.NEGATIVE_INFINITY || ts === Number.POSITIVE_INFINITY) {
      return undefined;
    }
    return ts - this.#base + this.#systemTimeOfMax;
  }

  notifyAt(): number | undefined {
    let at = this.#windows.size === 0 ? undefined : this.#toSystemTime(this.#minClose);
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      let first = queue[0]![0];
      for (const [ts] of queue) if (ts < first) first = ts;
      const t = this.#toSystemTime(first);
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  }

  snapshot(): KeyWindowsState {
    const fold = this.#hotFold;
    if (fold !== undefined) fold.acc = this.#hotAcc;
    const clock: EventClockState = {
      base: this.#base,
      systemTimeOfMax: this.#systemTimeOfMax,
      now: this.#now,
    };
    const windows: Array<[number, unknown]> = [];
    for (const [id, w] of this.#windows) if (w !== undefined) windows.push([id, w.snapshot()]);
    return {
      clock,
      windower: [...this.#windows.keys()] satisfies SlidingState,
      windows,
      queue: (this.#queue ?? []).map(([ts, v]) => [ts, v]),
    };
  }

  /** Applies due queued values, closes windows; discards the key when nothing is left. */
  #advance(out: WindowEvent[] | undefined): LogicResult<WindowEvent> {
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      const due: Array<[number, V]> = [];
      const rest: Array<[number, V]> = [];
      for (const e of queue) (e[0] <= this.#watermark ? due : rest).push(e);
      if (due.length > 0) {
        this.#queue = rest;
        due.sort((a, b) => a[0] - b[0]); // stable: equal timestamps keep arrival order
        for (const [ts, v] of due) out = this.#apply(ts, v, out);
      }
    }
    if (this.#watermark >= this.#minClose) out = this.#close(out);
    if (this.#windows.size === 0 && (this.#queue === undefined || this.#queue.length === 0)) {
      return [out ?? [], DISCARD];
    }
    return out === undefined || out.length === 0 ? NOTHING : [out, RETAIN];
  }

  /**
   * The windower's `closeFor(watermark)`, then each closed window's results and metadata.
   * Usually one window closes: that case makes no arrays but the outputs.
   */
  #close(out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    const wm = this.#watermark;
    const w = this.#w;
    let minClose = Number.POSITIVE_INFINITY;
    let first = 0;
    let n = 0;
    let ids: number[] | undefined = undefined;
    for (const id of this.#windows.keys()) {
      const close = w.alignTo + id * w.offset + w.length;
      if (close <= wm) {
        if (n++ === 0) first = id;
        else (ids ??= [first]).push(id);
      } else if (close < minClose) minClose = close;
    }
    this.#minClose = minClose;
    this.#settleHot();
    if (n === 0) return out;
    if (ids === undefined) return this.#closeOne(first, out);
    // Ordered by close time, then id (as SlidingLogic.closeFor).
    const closeOf = (id: number) => w.alignTo + id * w.offset + w.length;
    ids.sort((a, b) => closeOf(a) - closeOf(b) || a - b);
    for (let i = 0; i < ids.length; i++) out = this.#closeOne(ids[i]!, out);
    return out;
  }

  #closeOne(id: number, out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    const logic = this.#windows.get(id);
    this.#windows.delete(id);
    if (logic !== undefined) {
      const rs = logic.onClose();
      if (Array.isArray(rs)) {
        for (let i = 0; i < rs.length; i++) out = add(out, [DOWN, id, rs[i]]);
      } else {
        for (const r of rs) out = add(out, [DOWN, id, r]);
      }
    }
    if (this.#meta) out = add(out, [META, id, this.#w.metadataFor(id)]);
    return out;
  }
}

/** The hot folder when no fold is hot (never called). */
function noFolder(acc: unknown): unknown {
  return acc;
}

/** Appends `ev` to `out`, creating it (sized for one event) when undefined. */
function add(out: WindowEvent[] | undefined, ev: WindowEvent): WindowEvent[] {
  if (out === undefined) return [ev];
  out.push(ev);
  return out;
}

/**
 * Builds a key's window logic: the fused {@linkcode TumblingEventWindows} for an unmodified
 * `EventClock` with tumbling windows and no early results, {@linkcode KeyWindows} otherwise.
 * With `meta = false` (the pipeable forms, which drop them) no META events are made. Exported
 * for tests (not part of the public API).
 *
 * @internal
 */
export function windowLogicBuilder<V, W, S>(
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
  meta = true,
): LogicBuilder<StatefulBatchLogic<V, WindowEvent, KeyWindowsState>, KeyWindowsState> {
  const { clock, windower } = options;
  const fused = clock instanceof EventClock && clock.build === EventClock.prototype.build &&
    windower instanceof SlidingWindower && windower.build === SlidingWindower.prototype.build &&
    windower.offset === windower.length &&
    options.early?.everyItems === undefined && options.early?.everyMs === undefined;
  const ordered = options.ordered ?? true;
  return fused
    ? (resume, ctx) =>
      new TumblingEventWindows<V, W, S>(
        clock as EventClock<V>,
        windower as SlidingWindower,
        ordered,
        meta,
        builder,
        ctx,
        resume,
      )
    : (resume, ctx) => new KeyWindows<V, W, S>(options, builder, ctx, resume);
}

/** The stateful step of a window operator: `[key, value]` in, `[key, event]` out. */
function windowDriver<V, W, S>(
  name: string,
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
  meta = true,
): WeirOperator<readonly [string, V], [string, WindowEvent]> {
  return statefulBatch<V, WindowEvent, KeyWindowsState>(
    name,
    windowLogicBuilder(options, builder, meta),
    options,
  );
}

function pick<T>(tag: 0 | 1 | 2 | 3) {
  return (item: [string, WindowEvent]): [string, [number, T]] | undefined =>
    item[1][0] === tag ? [item[0], [item[1][1], item[1][2] as T]] : undefined;
}

/**
 * The generic window operator: per key, a clock assigns timestamps and a watermark, a
 * windower assigns windows, and one {@linkcode WindowLogic} per window (from `builder`)
 * turns the window's values into results. Like Bytewax's `window`:
 *
 * 1. Each value gets a timestamp and the key's watermark from the clock; a value strictly
 *    before the watermark is late and goes to `late` with the ids it would have had.
 * 2. On-time values are applied — in timestamp order once the watermark passes them when
 *    `ordered` (the default), at once otherwise — to every window the windower assigns.
 * 3. Merged windows (sessions) are combined with `onMerge`.
 * 4. Windows the watermark passed close: their `onClose` results go to `down`, then their
 *    metadata to `meta`. Timers wake the key at the next close; EOF closes every window.
 * 5. A key with no open window and nothing queued frees its state.
 *
 * Given the upstream stream, returns `{ down, late, meta, early }`; given only options, it is
 * pipeable and returns the results, handling late items as `options.late` says.
 *
 * @param stepId The step's name.
 * @param up The keyed stream to window.
 * @param options Clock, windower, ordering, early results, state TTL.
 * @param builder Builds a window's logic, from its snapshot on resume.
 *
 * @example The first and last value of each 10-second window
 * ```ts
 * import { Dataflow, EventClock, TumblingWindower, window } from "@weir/weir";
 * import { runMain, TestClock, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type R = { t: number; v: string };
 * const rs: [string, R][] = [{ t: 1_000, v: "a" }, { t: 5_000, v: "b" }, { t: 12_000, v: "c" }]
 *   .map((r) => ["k", r]);
 * const flow = new Dataflow("window_demo");
 * const { down, meta } = window("ends", flow.input("inp", new TestingSource(rs)), {
 *   clock: new EventClock((r: R) => r.t, { waitFor: 0 }),
 *   windower: new TumblingWindower(10_000, 0),
 * }, () => {
 *   let first: string | undefined;
 *   let last: string | undefined;
 *   return {
 *     onValue: (r: R) => ((first ??= r.v), (last = r.v), []),
 *     onMerge: () => [],
 *     onClose: () => [`${first}..${last}`],
 *     snapshot: () => [first, last],
 *   };
 * });
 * const out: unknown[] = [];
 * const ends: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * meta.output("meta", new TestingSink(ends));
 * await runMain(flow, { clock: new TestClock() });
 * assertEquals(out, [["k", [0, "a..b"]], ["k", [1, "c..c"]]]);
 * assertEquals(ends, [["k", [0, { open: 0, close: 10_000, merged: [] }]], ["k", [1, { open: 10_000, close: 20_000, merged: [] }]]]);
 * ```
 */
export function window<V, W, S>(
  stepId: string,
  up: KeyedStream<V> | Stream<readonly [string, V]>,
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
): WindowOut<V, W>;
/** The pipeable form: results only; late items handled by `options.late`. */
export function window<V, W, S>(
  stepId: string,
  options: PipeableWindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
): WeirOperator<readonly [string, V], [string, [number, W]]>;
export function window<V, W, S>(
  stepId: string,
  upOrOptions: KeyedStream<V> | Stream<readonly [string, V]> | PipeableWindowOptions<V>,
  optionsOrBuilder: WindowOptions<V> | WindowBuilder<V, W, S>,
  maybeBuilder?: WindowBuilder<V, W, S>,
): WindowOut<V, W> | WeirOperator<readonly [string, V], [string, [number, W]]> {
  checkStepId(stepId);
  if (maybeBuilder !== undefined) checkStream("window", stepId, "up", upOrOptions);
  if (upOrOptions instanceof Stream) {
    const up = upOrOptions as Stream<readonly [string, V]>;
    const options = optionsOrBuilder as WindowOptions<V>;
    const builder = maybeBuilder!;
    checkOptions(stepId, options);
    return up.flow.composite(
      stepId,
      "window",
      (scope) => windowStreams(scope, up, options, builder),
    );
  }
  const options = upOrOptions as PipeableWindowOptions<V>;
  const builder = optionsOrBuilder as WindowBuilder<V, W, S>;
  checkOptions(stepId, options);
  const late = options.late;
  checkLatePolicy(stepId, late);
  return step(
    stepId,
    windowDriver<V, W, S>("windows", options, builder, false),
    chainStep<[string, WindowEvent], [string, [number, W]]>(
      "windowResults",
      "results",
      (ctx, down) => (item) => {
        const [key, [tag, id, payload]] = item;
        if (tag === DOWN) down.next([key, [id, payload as W]]);
        else if (tag === LATE) {
          if (late === "fail") {
            throw new DataflowError(ctx.stepId, `A late item arrived for window ${id}`, { key });
          }
          if (late !== "drop") late(key, id, payload as V);
        }
      },
    ),
  ) as WeirOperator<readonly [string, V], [string, [number, W]]>;
}

/**
 * Builds a window operator's substeps in `scope`: the driver (`windows`) and its outputs
 * (`down`, `late`, `meta`, `early`). For composite operators that window an intermediate
 * stream, as `countWindow` does after keying.
 *
 * @example Keying and windowing in one named step
 * ```ts
 * import { Dataflow, keyOn, SystemClock, TumblingWindower, windowStreams } from "@weir/weir";
 * import { runMain, TestClock, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("streams_demo");
 * const words = flow.input("inp", new TestingSource(["a", "b", "a"]));
 * const { down } = flow.composite("per_word", "perWord", (scope) =>
 *   windowStreams(scope, scope.pipe(words, keyOn("key", (w: string) => w)), {
 *     clock: new SystemClock<string>(),
 *     windower: new TumblingWindower(60_000, 0),
 *   }, () => {
 *     let n = 0;
 *     return { onValue: () => (n++, []), onMerge: () => [], onClose: () => [n], snapshot: () => n };
 *   }));
 * const out: unknown[] = [];
 * down.output("out", new TestingSink(out));
 * await runMain(flow, { clock: new TestClock() });
 * assertEquals(out, [["a", [0, 2]], ["b", [0, 1]]]);
 * ```
 */
export function windowStreams<V, W, S>(
  scope: Scope,
  up: Stream<readonly [string, V]>,
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
): WindowOut<V, W> {
  checkStream("windowStreams", scope.id, "up", up);
  checkOptions(scope.id, options);
  const events = scope.pipe(up, windowDriver<V, W, S>("windows", options, builder));
  return {
    down: scope.pipe(events, filterMap("down", pick<W>(DOWN))),
    late: scope.pipe(events, filterMap("late", pick<V>(LATE))),
    meta: scope.pipe(events, filterMap("meta", pick<WindowMetadata>(META))),
    early: scope.pipe(events, filterMap("early", pick<W>(EARLY))),
  };
}

/** A pipeable window operator's `late` policy must be given: late data is never lost silently. */
export function checkLatePolicy(stepId: string, late: unknown): void {
  if (late !== "drop" && late !== "fail" && typeof late !== "function") {
    throw new TypeError(
      `Window step "${stepId}" needs options.late: "drop", "fail" or a function`,
    );
  }
}

function checkOptions<V>(stepId: string, options: WindowOptions<V>): void {
  for (const k of ["everyItems", "everyMs"] as const) {
    const v = options?.early?.[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw new RangeError(
        `Window step "${stepId}": early.${k} must be a positive integer, got ${v}`,
      );
    }
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Window step "${stepId}" needs an options object`);
  }
  if (typeof options.clock?.build !== "function") {
    throw new TypeError(`Window step "${stepId}" needs options.clock (e.g. new EventClock(...))`);
  }
  if (typeof options.windower?.build !== "function") {
    throw new TypeError(
      `Window step "${stepId}" needs options.windower (e.g. new TumblingWindower(...))`,
    );
  }
}
