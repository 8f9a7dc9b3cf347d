/**
 * What a stateful node and the store need of lazy resume, without its machinery
 * (`lazy_state.ts`): the {@linkcode LazyKeys} interface, how a node says it takes keys lazily
 * ({@linkcode LazyRestorable}), and where `lazy_state.ts` registers its index when it is
 * loaded ({@linkcode registerLazyIndex}). The Deno backends (`deno_fs.ts`, `deno_kv.ts`) load
 * it; a browser bundle does not (IndexedDB stores are small), and a resume without it rebuilds
 * every key at once, as slower but the same.
 *
 * @module
 */
import type { ClassSerde } from "./codec.ts";
import type { RawSegmentVisitor, SnapshotKind } from "./segment.ts";

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

/** What `RecoveryStore.loadInto` needs of the lazy index (`LazyIndex` in `lazy_state.ts`). */
export interface LazyIndexer extends RawSegmentVisitor {
  /** The next segment's bytes, before `readSegment` walks them. */
  segment(name: string, bytes: Uint8Array): void;
  /** Each step's keys, once every segment was read. */
  states(): Iterable<[SnapshotKind, string, LazyKeys]>;
}

/** Makes a lazy index for a store's load. */
export type LazyIndexMaker = (classes: readonly ClassSerde[], description: string) => LazyIndexer;

let maker: LazyIndexMaker | undefined;

/** Called once by `lazy_state.ts` when it is loaded: resumes index keys from then on. */
export function registerLazyIndex(make: LazyIndexMaker): void {
  maker = make;
}

/** The registered lazy index maker, or undefined where `lazy_state.ts` is not loaded. */
export function lazyIndexMaker(): LazyIndexMaker | undefined {
  return maker;
}
