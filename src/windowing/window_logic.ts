/**
 * The contract of one window's logic, which every window operator supplies to the window driver.
 *
 * @module
 */

/**
 * The logic of one window of one key. Built by the window operator's `builder` when an item
 * first falls into the window (or from its snapshot on resume).
 *
 * @typeParam V The values.
 * @typeParam W What the window emits.
 * @typeParam S Its snapshot.
 */
export interface WindowLogic<V, W, S> {
  /** Applies a value that falls into the window (in timestamp order when `ordered`). */
  onValue(value: V): Iterable<W>;
  /** Absorbs `original`, a window merged into this one (sessions). */
  onMerge(original: WindowLogic<V, W, S>): Iterable<W>;
  /** The window closed: emit its result. */
  onClose(): Iterable<W>;
  /**
   * Optional: the window's current partial result, for early results (`options.early`).
   * Return copies of mutable state: the window keeps changing after this call.
   */
  onEarly?(): Iterable<W>;
  /** The state to snapshot. */
  snapshot(): S;
}

/** Builds a window's logic, from its snapshot on resume. */
export type WindowBuilder<V, W, S> = (resumeState: S | undefined) => WindowLogic<V, W, S>;
