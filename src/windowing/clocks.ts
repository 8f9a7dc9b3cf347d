/**
 * Windowing clocks: what time an item belongs to, and how far (per key) time has progressed.
 *
 * @module
 */
import { declareEventClock } from "./_fusion.ts";
import { advancedBase, eventSystemTime, eventWatermark } from "./_window_math.ts";

/**
 * One key's clock. Per activation the window driver calls `beforeBatch(now)` once with the
 * activation's system time, then `onItem` for each value; at a timer `onNotify(now)`; at EOF
 * `onEof()`. Watermarks never decrease: an item strictly before the watermark is late.
 *
 * @typeParam V The values.
 * @typeParam S The snapshot.
 */
export interface ClockLogic<V, S> {
  /** Samples the system time for the values that follow (never moving backwards). */
  beforeBatch(now: number): void;
  /** The value's timestamp (epoch ms); the watermark then reflects it (see `watermark`). */
  onItem(value: V): number;
  /** The current watermark (epoch ms), after the last `onItem`, `onNotify` or `onEof`. */
  watermark(): number;
  /** The watermark at a timer, at system time `now`. */
  onNotify(now: number): number;
  /** The watermark at EOF: `+Infinity`, which closes every window. */
  onEof(): number;
  /**
   * The system time at which the watermark will reach event time `ts`, for timers; `undefined`
   * when only new input can move the watermark there.
   */
  toSystemTime(ts: number): number | undefined;
  /** The state to snapshot. */
  snapshot(): S;
}

/** A clock definition: builds one {@linkcode ClockLogic} per key. */
export interface WindowClock<V, S = unknown> {
  /**
   * Builds a key's clock, from its snapshot on resume.
   *
   * @param resumeState The snapshot, or `undefined` for a new key.
   * @param now The system time at which the key is first seen.
   */
  build(resumeState: S | undefined, now: number): ClockLogic<V, S>;
}

/** Options of {@linkcode EventClock}. */
export interface EventClockOptions {
  /**
   * How long (ms of system time) to wait for out-of-order items: the watermark trails the
   * largest timestamp seen by this much. `Infinity` closes windows only at EOF.
   */
  readonly waitFor: number;
}

/** The snapshot of one key's {@linkcode EventClock}. */
export interface EventClockState {
  /** The watermark when the largest timestamp was seen (`-Infinity` before any). */
  readonly base: number;
  /** The system time at which it was seen. */
  readonly systemTimeOfMax: number;
  /** The latest system time sampled. */
  readonly now: number;
}

/**
 * Event time from the items themselves, like Bytewax's `EventClock`. Per key:
 *
 * 1. An item with timestamp `ts` proposes the watermark `ts − waitFor`; it is taken when it
 *    is ahead of the current watermark (which then restarts from it).
 * 2. Between items the watermark advances with system time:
 *    `watermark = base + (now − systemTimeOfMax)`, so windows close even when a key goes
 *    quiet; `now` is sampled once per activation and never moves backwards.
 * 3. EOF sets it to `+Infinity`.
 *
 * @typeParam V The values.
 *
 * @example
 * ```ts
 * import { EventClock } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new EventClock((e: { t: number }) => e.t, { waitFor: 5_000 }).build(undefined, 0);
 * clock.beforeBatch(0);
 * assertEquals([clock.onItem({ t: 7_000 }), clock.watermark()], [7_000, 2_000]);
 * assertEquals(clock.onNotify(2_000), 4_000); // two seconds later
 * ```
 */
export class EventClock<V> implements WindowClock<V, EventClockState> {
  /**
   * A clock that reads each item's timestamp and waits `options.waitFor` ms for late items.
   *
   * @param tsGetter Returns an item's timestamp: epoch ms (a finite number) or a valid Date.
   *   Anything else (`NaN`, `±Infinity`, an invalid Date, a string…) fails the run with a
   *   `DataflowError` naming the step, the key and the item.
   * @param options How long to wait for late items.
   */
  constructor(
    readonly tsGetter: (value: V) => number | Date,
    readonly options: EventClockOptions,
  ) {
    if (!(options.waitFor >= 0)) {
      throw new RangeError(`waitFor must be >= 0 ms (or Infinity), got ${options.waitFor}`);
    }
  }

  /** Builds a key's clock. */
  build(resumeState: EventClockState | undefined, now: number): ClockLogic<V, EventClockState> {
    return new EventClockLogic(this.tsGetter, this.options.waitFor, resumeState, now);
  }
}

// The window driver's fused tumbling path runs this clock's formulas itself (not for subclasses).
declareEventClock(EventClock, (c) => ({ tsGetter: c.tsGetter, waitFor: c.options.waitFor }));

/**
 * An item's event time through `tsGetter`, checked: a finite number (epoch ms) or a valid
 * Date. Shared by {@linkcode EventClock}'s logic and the window driver's fused tumbling path.
 *
 * @internal
 */
export function eventTime<V>(tsGetter: (value: V) => number | Date, value: V): number {
  const raw: unknown = tsGetter(value);
  if (typeof raw === "number") {
    if (Number.isFinite(raw)) return raw;
  } else if (raw instanceof Date) {
    const ts = raw.getTime();
    if (ts === ts) return ts; // a Date's time is finite or NaN
  }
  throw new TypeError(
    `The timestamp getter returned ${describeTimestamp(raw)} for the item ` +
      `${describeItem(value)}, expected epoch ms (a finite number) or a valid Date`,
  );
}

function describeTimestamp(raw: unknown): string {
  if (raw instanceof Date) return "an invalid Date (its time is NaN)";
  const kind = typeof raw === "object"
    ? (raw === null ? "" : " (an object)")
    : typeof raw === "string" || typeof raw === "bigint"
    ? ` (a ${typeof raw})`
    : "";
  return show(raw, 0) + kind;
}

/** An item for an error message, at most 100 characters (JSON would print NaN as null). */
function describeItem(v: unknown): string {
  const s = show(v, 0);
  return s.length > 100 ? s.slice(0, 99) + "…" : s;
}

function show(v: unknown, depth: number): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "bigint":
      return `${v}n`;
    case "function":
      return "a function";
    case "object":
      break;
    default:
      return String(v);
  }
  if (v === null) return "null";
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  const array = Array.isArray(v);
  if (depth >= 3) return array ? "[…]" : "{…}";
  const keys = Object.keys(v);
  const parts = keys.slice(0, 8).map((k) => {
    const x = show((v as Record<string, unknown>)[k], depth + 1);
    return array ? x : `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${x}`;
  });
  if (keys.length > 8) parts.push("…");
  return array ? `[${parts.join(", ")}]` : parts.length === 0 ? "{}" : `{ ${parts.join(", ")} }`;
}

class EventClockLogic<V> implements ClockLogic<V, EventClockState> {
  // Initialised here, and no constructor parameter properties, so V8 keeps these as doubles
  // stored in place (fields first defined as `undefined` box every store).
  #base = Number.NEGATIVE_INFINITY;
  #systemTimeOfMax = 0.5;
  #now = 0.5;
  #eof = false;
  private readonly tsGetter: (value: V) => number | Date;
  private readonly waitFor: number;

  constructor(
    tsGetter: (value: V) => number | Date,
    waitFor: number,
    resume: EventClockState | undefined,
    now: number,
  ) {
    this.tsGetter = tsGetter;
    this.waitFor = waitFor;
    this.#base = resume?.base ?? Number.NEGATIVE_INFINITY;
    this.#systemTimeOfMax = resume?.systemTimeOfMax ?? now;
    this.#now = Math.max(resume?.now ?? now, now);
  }

  beforeBatch(now: number): void {
    if (now > this.#now) this.#now = now;
  }

  #watermark(): number {
    return this.#eof
      ? Number.POSITIVE_INFINITY
      : eventWatermark(this.#base, this.#systemTimeOfMax, this.#now);
  }

  watermark(): number {
    return this.#watermark();
  }

  onItem(value: V): number {
    const ts = eventTime(this.tsGetter, value);
    if (!this.#eof) {
      const base = advancedBase(this.#base, this.#systemTimeOfMax, this.#now, ts, this.waitFor);
      if (base !== this.#base) {
        this.#base = base;
        this.#systemTimeOfMax = this.#now;
      }
    }
    return ts;
  }

  onNotify(now: number): number {
    this.beforeBatch(now);
    return this.#watermark();
  }

  onEof(): number {
    this.#eof = true;
    return Number.POSITIVE_INFINITY;
  }

  toSystemTime(ts: number): number | undefined {
    return eventSystemTime(this.#base, this.#systemTimeOfMax, ts);
  }

  snapshot(): EventClockState {
    return { base: this.#base, systemTimeOfMax: this.#systemTimeOfMax, now: this.#now };
  }
}

/**
 * Processing time: each item's timestamp is the activation's system time, and so is the
 * watermark, so nothing is ever late. Like Bytewax's `SystemClock` (a windowing clock; the run's
 * time source is the separate `Clock` given to `run`).
 *
 * @example
 * ```ts
 * import { SystemClock } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * const clock = new SystemClock<string>().build(undefined, 0);
 * clock.beforeBatch(1_000);
 * assertEquals([clock.onItem("x"), clock.watermark()], [1_000, 1_000]);
 * assertEquals(clock.onEof(), Infinity);
 * ```
 */
export class SystemClock<V> implements WindowClock<V, number> {
  /** Builds a key's clock. */
  build(resumeState: number | undefined, now: number): ClockLogic<V, number> {
    let current = Math.max(resumeState ?? now, now);
    let eof = false;
    return {
      beforeBatch(t: number) {
        if (t > current) current = t;
      },
      onItem: () => current,
      watermark: () => (eof ? Number.POSITIVE_INFINITY : current),
      onNotify(t: number) {
        if (t > current) current = t;
        return eof ? Number.POSITIVE_INFINITY : current;
      },
      onEof() {
        eof = true;
        return Number.POSITIVE_INFINITY;
      },
      toSystemTime: (ts: number) => (ts === Number.POSITIVE_INFINITY ? undefined : ts),
      snapshot: () => current,
    };
  }
}
