/**
 * The fused per-key window logic for an event clock with session windows, without early
 * results: the general logic's behaviour with the clock's and the session windower's state kept
 * in one object (see {@linkcode SessionEventWindows}).
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
import { LATE_SESSION_ID, type SessionState } from "./windowers.ts";
import type { WindowBuilder, WindowLogic } from "./window_logic.ts";
import {
  type EventClockParams,
  type InlineFold,
  isInlineFold,
  type SessionParams,
} from "./_fusion.ts";
import { advancedBase, eventSystemTime, eventWatermark } from "./_window_math.ts";
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

/** A session's merged ids while it has absorbed none (copied before the first push). */
const NO_IDS: readonly number[] = Object.freeze([]);

/** One open session, `[open, close]` (inclusive), with its window's logic. */
class Session<V, W, S> {
  // Initialised as doubles, and no constructor parameter properties: see TumblingEventWindows.
  open = 0.5;
  close = 0.5;
  readonly id: number;
  /** Ids of the sessions merged into this one (`NO_IDS` while none). */
  merged: readonly number[] = NO_IDS;
  /** The window's logic, built on the session's first value (or from its snapshot). */
  logic: WindowLogic<V, W, S> | undefined = undefined;
  /** The logic when it is a declared inline fold (`_fusion.ts`): values fold into its `acc`. */
  fold: InlineFold<V, unknown> | undefined = undefined;

  constructor(id: number, open: number, close: number) {
    this.id = id;
    this.open = open;
    this.close = close;
  }

  setLogic(logic: WindowLogic<V, W, S> | undefined): void {
    this.logic = logic;
    this.fold = logic !== undefined && isInlineFold<V>(logic) ? logic : undefined;
  }
}

/**
 * The fused per-key logic for an event clock and session windows (classes that declared those
 * capabilities, `_fusion.ts`: `EventClock` and `SessionWindower`), without early results. It
 * behaves exactly like `KeyWindows` with those two — the clock's formulas (`_window_math.ts`), the
 * windower's rules (`SessionWindower`: extend within the gap, the earlier session absorbs, close
 * once the watermark is more than the gap past the end) and the driver's order of work (values,
 * then the merged windows' logics, then closes) — but keeps the clock's state and the open
 * sessions, each with its window's logic, in this one object, so a value touches the key's entry,
 * this object and its session: no clock, windower or windows map, no `[id]` array per value. The
 * session that took the last value is cached (`#hot`); an inline fold's accumulator is folded in
 * place, without calling its `onValue`. Its snapshot is the same `KeyWindowsState` (clock:
 * `EventClockState`, windower: `SessionState`), so either logic resumes from the other's.
 *
 * @internal
 */
export class SessionEventWindows<V, W, S>
  implements PerValueLogic<V, WindowEvent, KeyWindowsState> {
  // The clock (EventClock's logic's state); doubles initialised here (see TumblingEventWindows).
  readonly #tsGetter: (value: V) => number | Date;
  readonly #waitFor: number = 0.5;
  #base = Number.NEGATIVE_INFINITY;
  #systemTimeOfMax = 0.5;
  #now = 0.5;
  #eof = false;
  /** The driver's watermark (the clock's, never decreasing). */
  #watermark = Number.NEGATIVE_INFINITY;
  // The windower.
  readonly #gap: number = 0.5;
  readonly #timeIds: boolean;
  #nextId = 0;
  /** Open sessions in opening order (the order of the general path's maps and snapshot). */
  readonly #sessions: Array<Session<V, W, S>> = [];
  /**
   * A lower bound of the open sessions' close times (+Infinity when none; closes only grow), exact
   * after a close and while the key has one session.
   */
  #minClose = Number.POSITIVE_INFINITY;
  /** The session that took the last value, while open. */
  #hot: Session<V, W, S> | undefined = undefined;
  /**
   * Sessions merged since the last `#advance`, as pairs `original, target`: their windows'
   * logics are combined there, after the activation's values, as the general path does.
   */
  #merges: Array<Session<V, W, S>> | undefined = undefined;
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
    windower: SessionParams,
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
    this.#gap = windower.gap;
    this.#timeIds = windower.ids === "time";
    const w = resume?.windower as SessionState | undefined;
    this.#nextId = w?.nextId ?? 0;
    for (const [id, open, close, merged] of w?.sessions ?? []) {
      const s = new Session<V, W, S>(id, open, close);
      if (merged.length > 0) s.merged = [...merged];
      this.#sessions.push(s);
      if (close < this.#minClose) this.#minClose = close;
    }
    for (const [id, state] of resume?.windows ?? []) {
      this.#session(id)?.setLogic(builder(state as S));
    }
    if (resume !== undefined && resume.queue.length > 0) {
      this.#queue = resume.queue as Array<[number, V]>;
    }
  }

  /** The open session `id`, if any. */
  #session(id: number): Session<V, W, S> | undefined {
    for (const s of this.#sessions) if (s.id === id) return s;
    return undefined;
  }

  onBatch(values: V[]): LogicResult<WindowEvent> {
    let out: WindowEvent[] | undefined = undefined;
    for (const v of values) out = this.#value(v, out);
    return this.#advance(out);
  }

  onValue(value: V): WindowEvent[] | Iterable<never> | undefined {
    const out = this.#value(value, undefined);
    if (out !== undefined) return out;
    // Nothing to apply, merge or close at the activation's end (what onValuesEnd would check).
    const queue = this.#queue;
    return this.#merges === undefined && (queue === undefined || queue.length === 0) &&
        this.#sessions.length > 0 && !(this.#minClose < this.#watermark - this.#gap)
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
      out = add(out, [LATE, LATE_SESSION_ID, v]);
    } else if (this.#ordered) {
      (this.#queue ??= []).push([ts, v]);
    } else {
      let s = this.#hot;
      if (s === undefined || ts < s.open || ts > s.close) {
        // Inside the hot session nothing changes: it is the only session holding `ts` (open
        // sessions are more than the gap apart). The key's only session extends here too (as
        // in #sessionFor, inline: a double passed to a call that is not inlined is boxed), and
        // its end is then the exact earliest end.
        if (
          s !== undefined && this.#sessions.length === 1 && s.close < ts &&
          ts <= s.close + this.#gap
        ) {
          s.close = ts;
          this.#minClose = ts;
        } else {
          s = this.#sessionFor(ts);
        }
      }
      out = this.#applyTo(s, v, out);
    }
    return out;
  }

  /**
   * The session windower's `openFor(ts)`: the session holding `ts`, else the earliest-starting
   * one within the gap, extended (then merged with the sessions now within the gap of it),
   * else a new session.
   */
  #sessionFor(ts: number): Session<V, W, S> {
    const sessions = this.#sessions;
    const gap = this.#gap;
    if (sessions.length === 1) {
      // A key's only session (the common case): hold, extend, or a new one.
      const s = sessions[0]!;
      if (s.open - gap <= ts && ts <= s.close + gap) {
        if (ts < s.open) s.open = ts;
        if (ts > s.close) s.close = this.#minClose = ts;
        return s;
      }
    } else {
      for (const s of sessions) if (s.open <= ts && ts <= s.close) return s;
      let target: Session<V, W, S> | undefined = undefined;
      for (const s of sessions) {
        if ((s.open - gap <= ts && ts < s.open) || (s.close < ts && ts <= s.close + gap)) {
          if (target === undefined || s.open < target.open) target = s;
        }
      }
      if (target !== undefined) {
        target.open = Math.min(target.open, ts);
        target.close = Math.max(target.close, ts);
        this.#mergeAround();
        // The item's session may have been absorbed by an earlier one.
        for (const t of sessions) if (t.open <= ts && ts <= t.close) return t;
        return target;
      }
    }
    const id = this.#timeIds ? (gap > 0 ? Math.floor(ts / gap) : ts) : this.#nextId++;
    const s = new Session<V, W, S>(id, ts, ts);
    sessions.push(s);
    if (ts < this.#minClose) this.#minClose = ts;
    return s;
  }

  /** Merges sessions now within the gap of each other, the earliest start absorbing. */
  #mergeAround(): void {
    const sessions = this.#sessions;
    const ordered = [...sessions].sort((a, b) => a.open - b.open || a.id - b.id);
    let i = 0;
    while (i < ordered.length - 1) {
      const a = ordered[i]!;
      const b = ordered[i + 1]!;
      if (b.open - a.close <= this.#gap) {
        a.close = Math.max(a.close, b.close);
        a.merged = [...a.merged, b.id, ...b.merged];
        sessions.splice(sessions.indexOf(b), 1);
        if (this.#hot === b) this.#hot = undefined;
        (this.#merges ??= []).push(b, a);
        ordered.splice(i + 1, 1);
      } else {
        i++;
      }
    }
  }

  /** Applies `v` to session `s`'s window, building its logic on its first value. */
  #applyTo(s: Session<V, W, S>, v: V, out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    this.#hot = s;
    const fold = s.fold;
    if (fold !== undefined) {
      // The common case inline: the fold's onValue (`acc = folder(acc, v)`, nothing emitted).
      fold.acc = fold.folder(fold.acc, v);
      return out;
    }
    let logic = s.logic;
    if (logic === undefined) {
      logic = this.#builder(undefined);
      s.setLogic(logic);
      if (s.fold !== undefined) {
        s.fold.acc = s.fold.folder(s.fold.acc, v);
        return out;
      }
    }
    const ws = logic.onValue(v);
    if (Array.isArray(ws)) {
      if (ws.length > 0) {
        out ??= [];
        for (let i = 0; i < ws.length; i++) out.push([DOWN, s.id, ws[i]]);
      }
    } else {
      for (const w of ws) (out ??= []).push([DOWN, s.id, w]);
    }
    return out;
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

  notifyAt(): number | undefined {
    let at: number | undefined = undefined;
    const sessions = this.#sessions;
    if (sessions.length > 0) {
      let close = sessions[0]!.close;
      for (let i = 1; i < sessions.length; i++) {
        const c = sessions[i]!.close;
        if (c < close) close = c;
      }
      // Closing needs the watermark strictly past close + gap (SessionWindower's notifyAt).
      at = eventSystemTime(this.#base, this.#systemTimeOfMax, close + this.#gap + 1);
    }
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      const t = eventSystemTime(this.#base, this.#systemTimeOfMax, earliestQueued(queue));
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  }

  snapshot(): KeyWindowsState {
    const clock: EventClockState = {
      base: this.#base,
      systemTimeOfMax: this.#systemTimeOfMax,
      now: this.#now,
    };
    const sessions: SessionState["sessions"] = [];
    const windows: Array<[number, unknown]> = [];
    for (const s of this.#sessions) {
      sessions.push([s.id, s.open, s.close, [...s.merged]]);
      if (s.logic !== undefined) windows.push([s.id, s.logic.snapshot()]);
    }
    return {
      clock,
      windower: { sessions, nextId: this.#nextId } satisfies SessionState,
      windows,
      queue: (this.#queue ?? []).map(([ts, v]) => [ts, v]),
    };
  }

  /**
   * Applies due queued values, combines merged windows, closes sessions; discards the key when
   * nothing is left (only with time ids: sequential ids keep the key's counter, as Bytewax does).
   */
  #advance(out: WindowEvent[] | undefined): LogicResult<WindowEvent> {
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      const { due, rest } = dueValues(queue, this.#watermark);
      if (due.length > 0) {
        this.#queue = rest;
        for (const [ts, v] of due) {
          const hot = this.#hot;
          const s = hot === undefined || ts < hot.open || ts > hot.close
            ? this.#sessionFor(ts)
            : hot;
          out = this.#applyTo(s, v, out);
        }
      }
    }
    const merges = this.#merges;
    if (merges !== undefined) {
      this.#merges = undefined;
      for (let i = 0; i < merges.length; i += 2) {
        out = this.#combine(merges[i]!, merges[i + 1]!, out);
      }
    }
    if (this.#minClose < this.#watermark - this.#gap) out = this.#close(out);
    if (
      this.#timeIds && this.#sessions.length === 0 &&
      (this.#queue === undefined || this.#queue.length === 0)
    ) {
      return [out ?? [], DISCARD];
    }
    return out === undefined || out.length === 0 ? NOTHING : [out, RETAIN];
  }

  /** The general path's merge of window `from` into `into`'s window (`WindowLogic.onMerge`). */
  #combine(
    from: Session<V, W, S>,
    into: Session<V, W, S>,
    out: WindowEvent[] | undefined,
  ): WindowEvent[] | undefined {
    const original = from.logic;
    from.setLogic(undefined);
    if (original === undefined) return out;
    const target = into.logic;
    if (target === undefined) {
      into.setLogic(original);
      return out;
    }
    for (const w of target.onMerge(original)) out = add(out, [DOWN, into.id, w]);
    return out;
  }

  /**
   * The session windower's `closeFor(watermark)` (sessions whose end is more than the gap
   * behind the watermark, by close time then id), then each one's results and metadata.
   */
  #close(out: WindowEvent[] | undefined): WindowEvent[] | undefined {
    const limit = this.#watermark - this.#gap;
    const sessions = this.#sessions;
    let closed: Array<Session<V, W, S>> | undefined = undefined;
    let minClose = Number.POSITIVE_INFINITY;
    let kept = 0;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i]!;
      if (s.close < limit) {
        (closed ??= []).push(s);
      } else {
        sessions[kept++] = s;
        if (s.close < minClose) minClose = s.close;
      }
    }
    sessions.length = kept;
    this.#minClose = minClose;
    if (closed === undefined) return out;
    if (closed.length > 1) closed.sort((a, b) => a.close - b.close || a.id - b.id);
    for (const s of closed) {
      if (this.#hot === s) this.#hot = undefined;
      const logic = s.logic;
      if (logic !== undefined) {
        const rs = logic.onClose();
        if (Array.isArray(rs)) {
          for (let i = 0; i < rs.length; i++) out = add(out, [DOWN, s.id, rs[i]]);
        } else {
          for (const r of rs) out = add(out, [DOWN, s.id, r]);
        }
      }
      if (this.#meta) {
        const merged = [...s.merged].sort((x, y) => x - y);
        out = add(out, [META, s.id, { open: s.open, close: s.close, merged }]);
      }
    }
    return out;
  }
}
