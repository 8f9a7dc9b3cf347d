/**
 * Windowers: which windows a timestamp belongs to, and when windows close.
 *
 * @module
 */
import { toEpochMs } from "../clock.ts";
import { declareSession, declareTumbling } from "./_fusion.ts";
import { lastWindowId, windowBounds, windowClose, windowIds } from "./_window_math.ts";

/** A window's extent: `[open, close)` for sliding/tumbling windows, `[open, close]` for sessions. */
export interface WindowMetadata {
  /** The window's start, epoch ms. */
  readonly open: number;
  /** The window's end, epoch ms. */
  readonly close: number;
  /** Ids of windows merged into this one (sessions). */
  readonly merged: readonly number[];
}

/**
 * One key's windower. The window driver calls `openFor` for each on-time item, `lateFor` for
 * late ones, `merged` after applying items, `closeFor` with each new watermark.
 *
 * @typeParam S The snapshot.
 */
export interface WindowerLogic<S> {
  /**
   * The ids of the windows `ts` belongs to, opening them as needed, in ascending order. The
   * array may be reused by the next call: read it before calling again.
   */
  openFor(ts: number): number[];
  /** The ids a late item at `ts` would have belonged to (nothing is opened). */
  lateFor(ts: number): number[];
  /** The `[original, target]` merges since the last call (sessions); originals are gone. */
  merged(): Array<[original: number, target: number]>;
  /** Closes and returns the windows the watermark has passed, ordered by close time then id. */
  closeFor(watermark: number): Array<[id: number, meta: WindowMetadata]>;
  /** The event time at which the next window closes, if any is open. */
  notifyAt(): number | undefined;
  /** True when the key's windowing state can be freed (no window open, nothing to keep). */
  isEmpty(): boolean;
  /** The state to snapshot. */
  snapshot(): S;
}

/** A windower definition: builds one {@linkcode WindowerLogic} per key. */
export interface Windower<S = unknown> {
  /** Builds a key's windower, from its snapshot on resume. */
  build(resumeState: S | undefined): WindowerLogic<S>;
}

/** The snapshot of a sliding or tumbling windower: its open windows' ids. */
export type SlidingState = number[];

/**
 * Fixed-length windows starting every `offset` ms from `alignTo`: window `k` covers
 * `[alignTo + k·offset, alignTo + k·offset + length)` and ids may be negative. An item belongs
 * to every window covering it; a window closes once the watermark reaches its end. Like
 * Bytewax's `SlidingWindower`; `offset > length` (gaps) is rejected.
 *
 * @example Overlapping windows
 * ```ts
 * import { SlidingWindower } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const w = new SlidingWindower(10_000, 5_000, 0).build(undefined);
 * assertEquals(w.openFor(13_000), [1, 2]);
 * assertEquals(w.closeFor(15_000), [[1, { open: 5_000, close: 15_000, merged: [] }]]);
 * ```
 */
export class SlidingWindower implements Windower<SlidingState> {
  /** Window length in ms. */
  readonly length: number;
  /** Distance between window starts in ms. */
  readonly offset: number;
  /** A window start, epoch ms. */
  readonly alignTo: number;

  /**
   * Windows of `length` ms starting every `offset` ms, one of them at `alignTo`.
   *
   * @param length Window length in ms (> 0).
   * @param offset Distance between window starts in ms (0 < offset ≤ length).
   * @param alignTo Any window start (epoch ms or Date).
   */
  constructor(length: number, offset: number, alignTo: number | Date) {
    if (!(length > 0) || length === Infinity) {
      throw new RangeError(`Window length must be a finite number of ms > 0, got ${length}`);
    }
    if (!(offset > 0) || offset === Infinity) {
      throw new RangeError(`Window offset must be a finite number of ms > 0, got ${offset}`);
    }
    if (offset > length) {
      throw new RangeError(
        `Window offset ${offset} ms is longer than the window (${length} ms): windows would leave gaps`,
      );
    }
    this.length = length;
    this.offset = offset;
    this.alignTo = toEpochMs(alignTo);
    if (!Number.isFinite(this.alignTo)) {
      throw new RangeError(
        `Window alignTo must be a finite time (epoch ms or a valid Date), got ${alignTo}`,
      );
    }
  }

  /** The ids of the windows covering `ts`, ascending. */
  idsFor(ts: number): number[] {
    return windowIds(ts, this.alignTo, this.offset, this.length);
  }

  /** Window `id`'s extent. */
  metadataFor(id: number): WindowMetadata {
    return windowBounds(id, this.alignTo, this.offset, this.length);
  }

  /** Builds a key's windower. */
  build(resumeState: SlidingState | undefined): WindowerLogic<SlidingState> {
    return new SlidingLogic(this, resumeState);
  }
}

/**
 * Back-to-back fixed-length windows: a {@linkcode SlidingWindower} with `offset = length`.
 * Like Bytewax's `TumblingWindower`.
 *
 * @example
 * ```ts
 * import { TumblingWindower } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const w = new TumblingWindower(60_000, 0).build(undefined);
 * assertEquals([[...w.openFor(59_999)], [...w.openFor(60_000)], [...w.openFor(-1)]], [[0], [1], [-1]]);
 * ```
 */
export class TumblingWindower extends SlidingWindower {
  /**
   * Back-to-back windows of `length` ms, one of them starting at `alignTo`.
   *
   * @param length Window length in ms.
   * @param alignTo Any window start (epoch ms or Date).
   */
  constructor(length: number, alignTo: number | Date) {
    super(length, length, alignTo);
  }
}

// The window driver's fused tumbling path runs these windowers' formulas itself when they tumble
// (offset = length); subclasses are not declared, so they keep the general path.
const tumbling = (w: SlidingWindower) =>
  w.offset === w.length ? { length: w.length, alignTo: w.alignTo } : undefined;
declareTumbling(SlidingWindower, tumbling);
declareTumbling(TumblingWindower, tumbling);

const NO_MERGES: Array<[number, number]> = [];
const NONE_CLOSED: Array<[number, WindowMetadata]> = [];

class SlidingLogic implements WindowerLogic<SlidingState> {
  /** Open windows by id, with their close time. */
  readonly #open = new Map<number, number>();
  /** The earliest close time of the open windows (+Infinity when none). */
  #minClose = Number.POSITIVE_INFINITY;
  readonly #tumbling: boolean;
  readonly #one: number[] = [0];
  /** The last window opened by a tumbling windower (consecutive items usually share it). */
  #last = Number.NaN;

  // No constructor parameter properties: they would make V8 box every `#minClose` store.
  private readonly w: SlidingWindower;

  constructor(w: SlidingWindower, resume: SlidingState | undefined) {
    this.w = w;
    this.#tumbling = w.offset === w.length;
    for (const id of resume ?? []) this.#add(id);
  }

  #add(id: number): void {
    if (this.#open.has(id)) return;
    const close = windowClose(id, this.w.alignTo, this.w.offset, this.w.length);
    this.#open.set(id, close);
    if (close < this.#minClose) this.#minClose = close;
  }

  openFor(ts: number): number[] {
    if (this.#tumbling) {
      // One window: no array per item (the driver reads the result at once).
      const id = lastWindowId(ts, this.w.alignTo, this.w.offset);
      if (id !== this.#last) {
        this.#add(id);
        this.#last = id;
      }
      this.#one[0] = id;
      return this.#one;
    }
    const ids = this.w.idsFor(ts);
    for (const id of ids) this.#add(id);
    return ids;
  }

  lateFor(ts: number): number[] {
    return this.w.idsFor(ts);
  }

  merged(): Array<[number, number]> {
    return NO_MERGES;
  }

  closeFor(watermark: number): Array<[number, WindowMetadata]> {
    if (watermark < this.#minClose) return NONE_CLOSED;
    const closed: Array<[number, WindowMetadata]> = [];
    let minClose = Number.POSITIVE_INFINITY;
    for (const [id, close] of this.#open) {
      if (close <= watermark) closed.push([id, this.w.metadataFor(id)]);
      else if (close < minClose) minClose = close;
    }
    this.#minClose = minClose;
    closed.sort((a, b) => a[1].close - b[1].close || a[0] - b[0]);
    for (const [id] of closed) this.#open.delete(id);
    this.#last = Number.NaN;
    return closed;
  }

  notifyAt(): number | undefined {
    return this.#open.size === 0 ? undefined : this.#minClose;
  }

  isEmpty(): boolean {
    return this.#open.size === 0;
  }

  snapshot(): SlidingState {
    return [...this.#open.keys()];
  }
}

/** The id late items get from a {@linkcode SessionWindower}. */
export const LATE_SESSION_ID: -1 = -1;

/** One session of a {@linkcode SessionWindower}. */
interface Session {
  readonly id: number;
  open: number;
  close: number;
  merged: number[];
}

/** The snapshot of a session windower. */
export interface SessionState {
  /** Open sessions by id. */
  readonly sessions: Array<[id: number, open: number, close: number, merged: number[]]>;
  /** The next session id of this key. */
  readonly nextId: number;
}

/**
 * Sessions of activity separated by gaps longer than `gap` ms, per key. Like Bytewax's
 * `SessionWindower`:
 *
 * 1. An item inside a session joins it; one within `gap` (inclusive) before its start or
 *    after its end extends it; otherwise it starts a session with the key's next id (from 0).
 * 2. Sessions that an extension brings within `gap` of each other merge: the earlier-starting
 *    one absorbs the other, which is reported once by `merged()`.
 * 3. A session closes once the watermark is more than `gap` past its end; late items get id
 *    {@linkcode LATE_SESSION_ID}.
 *
 * @example A bridge item merges two sessions
 * ```ts
 * import { SessionWindower } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const w = new SessionWindower(10_000).build(undefined);
 * assertEquals([w.openFor(0), w.openFor(20_000)], [[0], [1]]);
 * assertEquals(w.openFor(10_000), [0]);
 * assertEquals(w.merged(), [[1, 0]]);
 * assertEquals(w.closeFor(30_001), [[0, { open: 0, close: 20_000, merged: [1] }]]);
 * ```
 */
export class SessionWindower implements Windower<SessionState> {
  /** How session ids are made. */
  readonly ids: SessionIds;

  /**
   * Sessions that close after `gap` ms without an item.
   *
   * @param gap The longest quiet time (ms) inside a session (≥ 0).
   * @param options How ids are made (default `"sequential"`).
   */
  constructor(readonly gap: number, options: SessionWindowerOptions = {}) {
    if (!(gap >= 0) || gap === Infinity) {
      // An infinite gap would close no session, not even at EOF (its close time is NaN).
      throw new RangeError(`Session gap must be a finite number of ms >= 0, got ${gap}`);
    }
    this.ids = options.ids ?? "sequential";
    if (this.ids !== "sequential" && this.ids !== "time") {
      throw new RangeError(`Session ids must be "sequential" or "time", got "${this.ids}"`);
    }
  }

  /** Builds a key's windower. */
  build(resumeState: SessionState | undefined): WindowerLogic<SessionState> {
    return new SessionLogic(this.gap, this.ids, resumeState);
  }
}

/**
 * How a {@linkcode SessionWindower} numbers sessions:
 * - `"sequential"` (default, Bytewax's): 0, 1, 2… per key. The key keeps its counter for
 *   ever (its windowing state is never freed), so ids are never reused; with many distinct
 *   keys that state grows without bound (bytewax#577).
 * - `"time"`: the id is `floor(t / gap)` for the session's first item at time `t` (`t` when
 *   the gap is 0). Two sessions of a key can't get the same id — a second item in the same
 *   gap-long slot would have joined the first session or been late — so a key with no open
 *   session frees its state and memory stays bounded by the open sessions.
 */
export type SessionIds = "sequential" | "time";

/** Options of {@linkcode SessionWindower}. */
export interface SessionWindowerOptions {
  /** How ids are made (default `"sequential"`). */
  readonly ids?: SessionIds;
}

// The window driver's fused session path runs these rules itself (`SessionEventWindows`);
// subclasses are not declared, so they keep the general path.
declareSession(SessionWindower, (w) => ({ gap: w.gap, ids: w.ids }));

class SessionLogic implements WindowerLogic<SessionState> {
  readonly #sessions = new Map<number, Session>();
  #nextId: number;
  #merges: Array<[number, number]> = [];

  constructor(
    private readonly gap: number,
    private readonly ids: SessionIds,
    resume: SessionState | undefined,
  ) {
    this.#nextId = resume?.nextId ?? 0;
    for (const [id, open, close, merged] of resume?.sessions ?? []) {
      this.#sessions.set(id, { id, open, close, merged: [...merged] });
    }
  }

  openFor(ts: number): number[] {
    // Sessions carry their id, so no loop here makes a `[id, session]` entry per session.
    for (const s of this.#sessions.values()) if (s.open <= ts && ts <= s.close) return [s.id];
    let target: Session | undefined;
    for (const s of this.#sessions.values()) {
      if ((s.open - this.gap <= ts && ts < s.open) || (s.close < ts && ts <= s.close + this.gap)) {
        if (target === undefined || s.open < target.open) target = s;
      }
    }
    if (target === undefined) {
      const id = this.ids === "time"
        ? (this.gap > 0 ? Math.floor(ts / this.gap) : ts)
        : this.#nextId++;
      this.#sessions.set(id, { id, open: ts, close: ts, merged: [] });
      return [id];
    }
    target.open = Math.min(target.open, ts);
    target.close = Math.max(target.close, ts);
    // A key's only session has nothing to merge with (the common case: no sort, no arrays).
    if (this.#sessions.size > 1) {
      this.#mergeAround();
      // The item's session may have been absorbed by an earlier one.
      for (const t of this.#sessions.values()) if (t.open <= ts && ts <= t.close) return [t.id];
    }
    return [target.id];
  }

  /** Merges sessions that are now within `gap` of each other, earliest start absorbing. */
  #mergeAround(): void {
    const ordered = [...this.#sessions].sort((a, b) => a[1].open - b[1].open || a[0] - b[0]);
    let i = 0;
    while (i < ordered.length - 1) {
      const [aId, a] = ordered[i]!;
      const [bId, b] = ordered[i + 1]!;
      if (b.open - a.close <= this.gap) {
        a.close = Math.max(a.close, b.close);
        a.merged.push(bId, ...b.merged);
        this.#sessions.delete(bId);
        this.#merges.push([bId, aId]);
        ordered.splice(i + 1, 1);
      } else {
        i++;
      }
    }
  }

  lateFor(): number[] {
    return [LATE_SESSION_ID];
  }

  merged(): Array<[number, number]> {
    const m = this.#merges;
    if (m.length === 0) return NO_MERGES;
    this.#merges = [];
    return m;
  }

  closeFor(watermark: number): Array<[number, WindowMetadata]> {
    const limit = watermark - this.gap;
    let closed: Array<[number, WindowMetadata]> | undefined;
    for (const s of this.#sessions.values()) {
      if (s.close < limit) {
        (closed ??= []).push([s.id, {
          open: s.open,
          close: s.close,
          merged: [...s.merged].sort((x, y) => x - y),
        }]);
      }
    }
    if (closed === undefined) return NONE_CLOSED;
    closed.sort((a, b) => a[1].close - b[1].close || a[0] - b[0]);
    for (const [id] of closed) this.#sessions.delete(id);
    return closed;
  }

  notifyAt(): number | undefined {
    let at: number | undefined;
    for (const s of this.#sessions.values()) {
      // Closing needs the watermark strictly past close + gap.
      const t = s.close + this.gap + 1;
      if (at === undefined || t < at) at = t;
    }
    return at;
  }

  /**
   * With sequential ids never empty, like Bytewax: the key keeps its counter so ids are never
   * reused (closed sessions themselves are freed). With time ids, empty once no session is
   * open.
   */
  isEmpty(): boolean {
    return this.ids === "time" && this.#sessions.size === 0;
  }

  snapshot(): SessionState {
    return {
      sessions: [...this.#sessions].map(([id, s]) => [id, s.open, s.close, [...s.merged]]),
      nextId: this.#nextId,
    };
  }
}
