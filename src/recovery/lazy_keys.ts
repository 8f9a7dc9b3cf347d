/**
 * What a stateful node needs of lazy resume, without its machinery (`lazy_state.ts`, loaded by
 * `RecoveryStore.loadInto` only when a run resumes, and kept out of a browser bundle, where
 * resuming rebuilds every key at once as before): the {@linkcode LazyKeys} interface and how
 * a node says it takes keys lazily ({@linkcode LazyRestorable}). Types only.
 *
 * @module
 */
/** A stateful step's resumed keys, decoded on first use (`LazyStepState` in `lazy_state.ts`). */
export interface LazyKeys {
  /** How many keys it still holds (at most). */
  readonly size: number;
  /**
   * Takes `key` if it holds it: calls `fn` with it and its decoded snapshot (which it no longer
   * holds after) and returns true; false when it does not hold the key. Throws a
   * `DataflowError` naming the step and key when the snapshot cannot be decoded.
   */
  take(key: string, fn: (key: string, snapshot: unknown) => void): boolean;
  /**
   * Takes up to `limit` keys it still holds, calling `fn` with each and its snapshot; returns
   * how many it took. Throws as `take` does.
   */
  takeSome(limit: number, fn: (key: string, snapshot: unknown) => void): number;
}

/** A runtime node that takes a step's resumed keys at once, lazily (`StatefulBatchNode`). */
export interface LazyRestorable {
  /** Takes the step's resumed keys (before the run's first activation). */
  restoreLazy(state: LazyKeys): void;
}
