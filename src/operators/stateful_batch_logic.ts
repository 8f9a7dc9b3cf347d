/**
 * The per-key logic contract of `statefulBatch`: what a key's logic is, what its callbacks
 * return, and what its builder learns about the key.
 *
 * @module
 */

/**
 * What a logic callback returns: the values to emit (each emitted as `[key, value]`) and
 * whether to discard the key's logic ({@linkcode DISCARD}) or keep it ({@linkcode RETAIN}).
 */
export type LogicResult<W> = readonly [outputs: Iterable<W>, discard: boolean];

/** Drop the key's logic (and timer) after this call; the next item builds a fresh one. */
export const DISCARD = true;
/** Keep the key's logic after this call. */
export const RETAIN = false;

/**
 * The per-key logic of `statefulBatch`. One instance exists per live key.
 *
 * When each method is called, per activation (one "now" for the whole activation):
 * 1. `onBatch(values)` for every key that received items, keys in order of first arrival in
 *    the activation, values in arrival order;
 * 2. `onNotify()` for every key whose `notifyAt()` time is `<= now`. Timers due at the start
 *    of an activation fire before its new items. A time that fired is not fired again until
 *    the key receives new values (a logic that forgets to clear its timer does not loop);
 * 3. `onEof()` for every live key, in sorted key order, once the upstream ended;
 * 4. `notifyAt()` for every key touched in 1–3 that is still alive (`undefined`: no timer).
 *
 * Returning `discard = true` from 1–3 drops the logic and its timer. `snapshot()` is taken at
 * epoch ends for keys touched in the epoch (recovery), and `builder(snapshot)` rebuilds the
 * logic on resume; snapshots must not be mutated afterwards.
 *
 * @typeParam V Input values.
 * @typeParam W Output values.
 * @typeParam S Snapshot (resume state).
 */
export interface StatefulBatchLogic<V, W, S> {
  /** Handles the values this key received in one activation. */
  onBatch(values: V[]): LogicResult<W>;
  /** Handles a timer set by `notifyAt`. Default: emit nothing, retain. */
  onNotify?(): LogicResult<W>;
  /** Handles the end of the input. Default: emit nothing, retain. */
  onEof?(): LogicResult<W>;
  /** When to call `onNotify` next (epoch ms or Date of the run's clock), if at all. */
  notifyAt?(): number | Date | undefined;
  /** The state to snapshot: a structured-clone value. */
  snapshot(): S;
}

/** What a logic's builder learns about the key it serves. */
export interface LogicContext {
  /** The fully qualified id of the stateful step, for error messages. */
  readonly stepId: string;
  /** The key. */
  readonly key: string;
  /** The current activation's time, from the run's clock (for timers; never the wall clock). */
  now(): number;
}

/** Builds a key's logic, from its snapshot on resume or `undefined` for a fresh key. */
export type LogicBuilder<L, S> = (resumeState: NoInfer<S> | undefined, ctx: LogicContext) => L;

/** Options shared by every stateful operator. */
export interface StatefulOptions {
  /**
   * Drops a key's state after it has been idle (no item, timer or EOF callback) for `ttl`
   * milliseconds of the run's clock. The drop counts as a discard: the next item for the key
   * starts from scratch. Default: never (state lives until the logic discards it).
   */
  readonly ttl?: number;
}

/** A shared "emit nothing, retain" result, for callbacks that only update state. */
export const NOTHING: LogicResult<never> = Object.freeze([
  Object.freeze([]),
  RETAIN,
]) as LogicResult<
  never
>;
