/**
 * What the window driver emits and snapshots: tagged events and a key's windowing state, shared
 * by both per-key logics (`KeyWindows`, `TumblingEventWindows`) and the operators that split
 * the events into streams.
 *
 * @module
 */

/** A window's result. */
export const DOWN = 0;
/** An item that arrived after the watermark. */
export const LATE = 1;
/** A closed window's metadata, after its results. */
export const META = 2;
/** An early (partial) result of an open window. */
export const EARLY = 3;

/** An event of the window driver: a result, a late item, a window's metadata or an early result. */
export type WindowEvent = readonly [tag: 0 | 1 | 2 | 3, windowId: number, payload: unknown];

/**
 * A key's windowing snapshot (what recovery stores per key; plain structured-clone data). Both
 * per-key logics, `KeyWindows` and `TumblingEventWindows`, write and read this same shape, so
 * either resumes from the other's snapshot.
 */
export interface KeyWindowsState {
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

/**
 * The values of `queue` the watermark passed, in timestamp order (stable: equal timestamps keep
 * arrival order), and the rest, in arrival order; `due` is empty when none is due.
 */
export function dueValues<V>(
  queue: Array<[number, V]>,
  watermark: number,
): { due: Array<[number, V]>; rest: Array<[number, V]> } {
  const due: Array<[number, V]> = [];
  const rest: Array<[number, V]> = [];
  for (const e of queue) (e[0] <= watermark ? due : rest).push(e);
  due.sort((a, b) => a[0] - b[0]);
  return { due, rest };
}

/** The earliest timestamp in a non-empty queue. */
export function earliestQueued(queue: ReadonlyArray<readonly [number, unknown]>): number {
  let first = queue[0]![0];
  for (const [ts] of queue) if (ts < first) first = ts;
  return first;
}

/** Appends `ev` to `out`, creating it (sized for one event) when undefined. */
export function addEvent(out: WindowEvent[] | undefined, ev: WindowEvent): WindowEvent[] {
  if (out === undefined) return [ev];
  out.push(ev);
  return out;
}
