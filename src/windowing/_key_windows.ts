/**
 * The general per-key window logic: a clock and a windower object per key, for every clock and
 * windower (sessions, sliding windows, `SystemClock`, early results, user classes).
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
import type { PerValueLogic } from "../operators/_per_value_logic.ts";
import type { ClockLogic } from "./clocks.ts";
import type { WindowerLogic } from "./windowers.ts";
import type { WindowBuilder, WindowLogic } from "./window_logic.ts";
import type { WindowOptions } from "./window_options.ts";
import {
  addEvent,
  DOWN,
  dueValues,
  earliestQueued,
  EARLY,
  type KeyWindowsState,
  LATE,
  META,
  type WindowEvent,
} from "./_window_events.ts";

/**
 * One key's windows through its clock and windower objects: `onBatch` asks the clock for each
 * value's timestamp and the watermark, routes late values to a LATE event, queues on-time ones
 * (ordered mode) or applies them at once; `#advance` applies the queued values the watermark
 * passed, combines merged windows, closes windows (results, then a META event) and discards the
 * key when nothing is open.
 *
 * @internal
 */
export class KeyWindows<V, W, S> implements PerValueLogic<V, WindowEvent, KeyWindowsState> {
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
    return this.#advance(out.length === 0 ? undefined : out);
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
    return this.#advance(undefined);
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
    return this.#advance(out.length === 0 ? undefined : out);
  }

  #early(id: number, logic: WindowLogic<V, W, S>, out: WindowEvent[]): void {
    if (logic.onEarly === undefined) return;
    for (const w of logic.onEarly()) out.push([EARLY, id, w]);
  }

  onEof(): LogicResult<WindowEvent> {
    this.#watermark = this.#clock.onEof();
    return this.#advance(undefined);
  }

  notifyAt(): number | undefined {
    let at: number | undefined = this.#windows.size > 0 ? this.#nextEarly : undefined;
    const close = this.#windower.notifyAt();
    if (close !== undefined) {
      const t = this.#clock.toSystemTime(close);
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    if (this.#queue.length > 0) {
      const t = this.#clock.toSystemTime(earliestQueued(this.#queue));
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

  /**
   * Applies due queued values, merges, closes windows; discards the key when nothing is left.
   * `out` is created only when something is emitted (most activations emit nothing).
   */
  #advance(out: WindowEvent[] | undefined): LogicResult<WindowEvent> {
    if (this.#queue.length > 0) {
      const { due, rest } = dueValues(this.#queue, this.#watermark);
      if (due.length > 0) {
        this.#queue = rest;
        out ??= [];
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
      for (const w of into.onMerge(from)) out = addEvent(out, [DOWN, target, w]);
    }
    for (const [id, meta] of this.#windower.closeFor(this.#watermark)) {
      const logic = this.#windows.get(id);
      this.#windows.delete(id);
      this.#sinceEarly.delete(id);
      if (logic !== undefined) {
        for (const w of logic.onClose()) out = addEvent(out, [DOWN, id, w]);
      }
      out = addEvent(out, [META, id, meta]);
    }
    const idle = this.#windows.size === 0 && this.#queue.length === 0 && this.#windower.isEmpty();
    if (idle) return [out ?? [], DISCARD];
    return out === undefined || out.length === 0 ? NOTHING : [out, RETAIN];
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
