/**
 * Internal: the per-value fast path of `statefulBatch`'s runtime node. Not part of the public
 * contract ({@linkcode StatefulBatchLogic}); the folds (`_fold.ts`) and the window driver
 * implement it to skip the per-key values array of `onBatch`.
 *
 * The node recognises these hooks by name on any logic it runs: a logic with `onValue` gets
 * the per-value path.
 *
 * @module
 */
import type { LogicResult, StatefulBatchLogic } from "./stateful_batch_logic.ts";

/**
 * A {@linkcode StatefulBatchLogic} that may fold its values one at a time.
 *
 * When `onValue` is present, the runtime calls `onValue(value)` for each value as it arrives,
 * in arrival order, instead of gathering the activation's values for `onBatch` (which is then
 * not called). Outputs it returns are held and emitted at the end of the activation, grouped
 * by key exactly as `onBatch`'s would be. After the key's last value of the activation,
 * `onValuesEnd` (if present) may emit more and discard; without it the key is retained.
 *
 * @typeParam V Input values.
 * @typeParam W Output values.
 * @typeParam S Snapshot (resume state).
 */
export interface PerValueLogic<V, W, S> extends StatefulBatchLogic<V, W, S> {
  /** Folds one value (see the interface); may return outputs, nothing, or {@linkcode QUIET}. */
  onValue?(value: V): Iterable<W> | void;
  /** With `onValue`: called once per activation after the key's values. Default: retain. */
  onValuesEnd?(): LogicResult<W>;
  /**
   * Instead of `onValue`: maps one value to exactly one output, held without an outputs array
   * (the first output of the key's activation in the key's slot) and emitted at the activation's
   * end like `onValue`'s; then `onValuesEnd` (if present). `statefulMap` implements it.
   */
  mapValue?(value: V): W;
}

/**
 * What an `onValue` may return, instead of nothing, to say that it emitted nothing and that
 * `onValuesEnd` would emit nothing and retain the key if it were called at the end of this
 * activation, whatever other values of the key arrive in between (those are judged on their
 * own). The runtime then re-reads the key's timer at once and skips the key at the activation's
 * end, where it would otherwise visit it again. The window driver's fused logic returns it.
 */
export const QUIET: Iterable<never> = Object.freeze([]) as Iterable<never>;

/** An `onValuesEnd` result: no outputs, discard the key (shared, so nothing is allocated). */
export const DISCARD_NOTHING: LogicResult<never> = Object.freeze([
  Object.freeze([]) as never[],
  true,
]) as unknown as LogicResult<never>;
