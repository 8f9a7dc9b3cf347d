/**
 * The fused per-key window logic for an event clock with tumbling windows, without early
 * results: the general logic's behaviour with the clock's and windower's state kept in one
 * object (see {@linkcode TumblingEventWindows}).
 *
 * @module
 */
import { DataflowError } from "../errors.ts";
import {
  DISCARD,
  type LogicContext,
  type LogicResult,
  NOTHING,
  RETAIN,
} from "../operators/stateful_batch.ts";
import { type PerValueLogic, QUIET } from "../operators/_per_value_logic.ts";
import { type EventClockState, eventTime } from "./clocks.ts";
import type { SlidingState } from "./windowers.ts";
import type { WindowBuilder, WindowLogic } from "./window_logic.ts";
import {
  type EventClockParams,
  type InlineFold,
  isInlineFold,
  type TumblingParams,
} from "./_fusion.ts";
import {
  advancedBase,
  eventSystemTime,
  eventWatermark,
  lastWindowId,
  windowBounds,
  windowClose,
  windowIds,
} from "./_window_math.ts";
import {
  addEvent as add,
  DOWN,
  dueValues,
  earliestQueued,
  type KeyWindowsState,
  LATE,
  META,
  type WindowEvent,
} from "./_window_events.ts";

/**
 * The fused per-key logic for the most common shape: an event clock and tumbling windows (classes
 * that declared those capabilities, `_fusion.ts`: `EventClock`, `TumblingWindower` and a
 * `SlidingWindower` with `offset = length`), without early results. It behaves exactly like
 * `KeyWindows` with those two, calling the same formulas (`_window_math.ts`), but keeps the
 * clock's state, the windower's state and the open windows in this one object, so a value
 * touches the key's entry, this object and its window's logic — not a clock, a windower and
 * their maps. The window that took the last value is cached (`#hotId`/`#hot`), so consecutive
 * values of a window skip the map; when that window's logic is an inline fold its accumulator
 * is kept here too. Its snapshot is the same `KeyWindowsState` (clock: `EventClockState`,
 * windower: `SlidingState`), so either logic resumes from the other's snapshot.
 *
 * @internal
 */
export class TumblingEventWindows<V, W, S>
  implements PerValueLogic<V, WindowEvent, KeyWindowsState> {
  // Numeric fields are initialised where they are declared, and the class has no constructor
  // parameter properties: with those, the emitted class first defines every field as
  // `undefined`, and V8 then boxes every double stored in it (an allocation per value).
  //
  // The clock (EventClock's logic's state).
  readonly #tsGetter: (value: V) => number | Date;
  readonly #waitFor: number;
  #base = Number.NEGATIVE_INFINITY;
  #systemTimeOfMax = 0.5;
  #now = 0.5;
  #eof = false;
  /** The driver's watermark (the clock's, never decreasing). */
  #watermark = Number.NEGATIVE_INFINITY;
  // The windower (tumbling: offset = length) and the windows.
  readonly #length: number;
  readonly #alignTo: number;
  /** Open windows by id, in opening order, with their logic (built on the first value). */
  readonly #windows = new Map<number, WindowLogic<V, W, S> | undefined>();
  /** The earliest close time of the open windows (+Infinity when none). */
  #minClose = Number.POSITIVE_INFINITY;
  /** The window that took the last value (NaN: none), and its logic. */
  #hotId = Number.NaN;
  #hot: WindowLogic<V, W, S> | undefined = undefined;
  /**
   * When the hot window is an inline fold (foldWindow's logic): the logic, and its accumulator,
   * kept here while the window is hot and written back (`#settleHot`) before anything reads it.
   */
  #hotFold: InlineFold<V, unknown> | undefined = undefined;
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
    clock: EventClockParams<V>,
    windower: TumblingParams,
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
    this.#waitFor = clock.waitFor;
    const c = resume?.clock as EventClockState | undefined;
    this.#base = c?.base ?? Number.NEGATIVE_INFINITY;
    this.#systemTimeOfMax = c?.systemTimeOfMax ?? now;
    this.#now = Math.max(c?.now ?? now, now);
    this.#length = windower.length;
    this.#alignTo = windower.alignTo;
    for (const id of (resume?.windower ?? []) as SlidingState) this.#open(id);
    for (const [id, s] of resume?.windows ?? []) this.#windows.set(id, builder(s as S));
    if (resume !== undefined && resume.queue.length > 0) {
      this.#queue = resume.queue as Array<[number, V]>;
    }
  }

  #open(id: number): void {
    if (this.#windows.has(id)) return;
    const close = windowClose(id, this.#alignTo, this.#length, this.#length);
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
    if (!this.#eof) {
      const base = advancedBase(this.#base, this.#systemTimeOfMax, this.#now, ts, this.#waitFor);
      if (base !== this.#base) {
        this.#base = base;
        this.#systemTimeOfMax = this.#now;
      }
    }
    const wm = this.#eof
      ? Number.POSITIVE_INFINITY
      : eventWatermark(this.#base, this.#systemTimeOfMax, this.#now);
    if (wm > this.#watermark) this.#watermark = wm;
    if (ts < this.#watermark) {
      out ??= [];
      for (const id of windowIds(ts, this.#alignTo, this.#length, this.#length)) {
        out.push([LATE, id, v]);
      }
    } else if (this.#ordered) {
      (this.#queue ??= []).push([ts, v]);
    } else {
      const id = lastWindowId(ts, this.#alignTo, this.#length);
      if (id === this.#hotId && this.#hotFold !== undefined) {
        // The common case inline: the fold's onValue, on the hot window's inline accumulator.
        this.#hotAcc = this.#hotFolder.call(this.#hotFold, this.#hotAcc, v);
      } else {
        out = this.#applyTo(id, v, out);
      }
    }
    return out;
  }

  #apply(ts: number, v: V, out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    return this.#applyTo(lastWindowId(ts, this.#alignTo, this.#length), v, out);
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
          const close = windowClose(id, this.#alignTo, this.#length, this.#length);
          if (close < this.#minClose) this.#minClose = close;
        }
        logic = this.#builder(undefined);
        this.#windows.set(id, logic);
      }
      this.#hotId = id;
      this.#hot = logic;
      if (isInlineFold<V>(logic)) {
        this.#hotFold = logic;
        this.#hotAcc = logic.acc;
        this.#hotFolder = logic.folder;
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
      : eventWatermark(this.#base, this.#systemTimeOfMax, this.#now);
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
    return eventSystemTime(this.#base, this.#systemTimeOfMax, ts);
  }

  notifyAt(): number | undefined {
    let at = this.#windows.size === 0 ? undefined : this.#toSystemTime(this.#minClose);
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      const t = this.#toSystemTime(earliestQueued(queue));
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
      const { due, rest } = dueValues(queue, this.#watermark);
      if (due.length > 0) {
        this.#queue = rest;
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
    const alignTo = this.#alignTo;
    const length = this.#length;
    let minClose = Number.POSITIVE_INFINITY;
    let first = 0;
    let n = 0;
    let ids: number[] | undefined = undefined;
    let hotCloses = false;
    for (const id of this.#windows.keys()) {
      const close = windowClose(id, alignTo, length, length);
      if (close <= wm) {
        if (n++ === 0) first = id;
        else (ids ??= [first]).push(id);
        if (id === this.#hotId) hotCloses = true;
      } else if (close < minClose) minClose = close;
    }
    this.#minClose = minClose;
    // Only a closing hot window needs its accumulator back: a window that stays open stays hot
    // (a key's next value usually goes to the window that took the one that closed the last).
    if (hotCloses) this.#settleHot();
    if (n === 0) return out;
    if (ids === undefined) return this.#closeOne(first, out);
    // Ordered by close time, then id (as SlidingLogic.closeFor).
    const closeOf = (id: number) => windowClose(id, alignTo, length, length);
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
    if (this.#meta) {
      out = add(out, [META, id, windowBounds(id, this.#alignTo, this.#length, this.#length)]);
    }
    return out;
  }
}

/** The hot folder when no fold is hot (never called). */
function noFolder(acc: unknown): unknown {
  return acc;
}
