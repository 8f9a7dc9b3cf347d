/**
 * The windowing formulas, as small pure functions on numbers. `EventClock`'s logic and
 * `SlidingWindower` (the general path) and the fused tumbling driver all call these, so each
 * formula is written once. They take and return plain numbers (no objects), so V8 inlines them
 * and a value's timestamp is never boxed.
 *
 * @module
 */

/**
 * An event clock's watermark at system time `now`: the watermark it had when it saw its largest
 * timestamp (`base`), advanced by the system time since (`now − systemTimeOfMax`).
 */
export function eventWatermark(base: number, systemTimeOfMax: number, now: number): number {
  return base + (now - systemTimeOfMax);
}

/**
 * An event clock's `base` after an item with timestamp `ts`: the item proposes `ts − waitFor`,
 * taken when it is ahead of the current watermark; otherwise `base` stays. The clock restarts its
 * system-time reference (`systemTimeOfMax = now`) exactly when the result differs from `base`
 * (a taken proposal is always above `base`, since `now ≥ systemTimeOfMax`).
 */
export function advancedBase(
  base: number,
  systemTimeOfMax: number,
  now: number,
  ts: number,
  waitFor: number,
): number {
  const proposed = ts - waitFor;
  return proposed > eventWatermark(base, systemTimeOfMax, now) ? proposed : base;
}

/**
 * The system time at which an event clock's watermark reaches event time `ts` (for timers), or
 * `undefined` when only new input can move it there: before any item, or for `ts = +Infinity`.
 */
export function eventSystemTime(
  base: number,
  systemTimeOfMax: number,
  ts: number,
): number | undefined {
  if (base === Number.NEGATIVE_INFINITY || ts === Number.POSITIVE_INFINITY) return undefined;
  return ts - base + systemTimeOfMax;
}

/**
 * The id of the last window starting at or before `ts`, for windows starting every `offset`
 * ms from `alignTo` (the only window covering `ts` when they tumble: `offset = length`).
 */
export function lastWindowId(ts: number, alignTo: number, offset: number): number {
  return Math.floor((ts - alignTo) / offset);
}

/** The id of the first window of `length` ms (starting every `offset` ms) covering `ts`. */
export function firstWindowId(ts: number, alignTo: number, offset: number, length: number): number {
  return Math.floor((ts - alignTo - length) / offset) + 1;
}

/** Window `id`'s start: `alignTo + id · offset`. */
export function windowOpen(id: number, alignTo: number, offset: number): number {
  return alignTo + id * offset;
}

/** Window `id`'s end (exclusive), which the watermark must reach to close it. */
export function windowClose(id: number, alignTo: number, offset: number, length: number): number {
  return alignTo + id * offset + length;
}

/** The ids of the windows covering `ts`, ascending (one array per call: not for hot paths). */
export function windowIds(ts: number, alignTo: number, offset: number, length: number): number[] {
  const last = lastWindowId(ts, alignTo, offset);
  const ids: number[] = [];
  for (let k = firstWindowId(ts, alignTo, offset, length); k <= last; k++) ids.push(k);
  return ids;
}

/** Window `id`'s extent, `[open, close)`, as a window's metadata reports it. */
export function windowBounds(
  id: number,
  alignTo: number,
  offset: number,
  length: number,
): { open: number; close: number; merged: number[] } {
  const open = windowOpen(id, alignTo, offset);
  return { open, close: open + length, merged: [] };
}
