/**
 * The options every window operator takes, and the streams its stream form returns.
 *
 * @module
 */
import type { KeyedStream } from "../dataflow/dataflow.ts";
import type { StatefulOptions } from "../operators/stateful_batch.ts";
import type { WindowClock } from "./clocks.ts";
import type { LatePolicy } from "./late_policy.ts";
import type { Windower, WindowMetadata } from "./windowers.ts";

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

/** The streams of a window operator. */
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

/** Checks a window step's options at definition time (a TypeError or RangeError says what). */
export function checkWindowOptions<V>(stepId: string, options: WindowOptions<V>): void {
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
