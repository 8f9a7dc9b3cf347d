/**
 * Internal: the fold behind `foldFinal`, `reduceFinal` and `countFinal` (as RxJS's
 * `scanInternals` serves `scan` and `reduce`). One logic folds a key's values as they arrive
 * (the per-value path) or an activation's batch, emits the accumulator at EOF and drops the
 * key; with several workers, partial accumulators fold before the exchange and merge after.
 *
 * @module
 */
import { NO_PARTIAL, type WeirOperator } from "../dataflow/op.ts";
import type { PerValueLogic } from "./_per_value_logic.ts";
import { keyedStep } from "./stateful_batch.ts";
import {
  DISCARD,
  type LogicResult,
  NOTHING,
  type StatefulOptions,
} from "./stateful_batch_logic.ts";

/** How a fold's accumulator starts and is snapshotted. */
interface FoldAcc<A, S> {
  /** A fresh key's accumulator; `undefined`: the key's first value is its accumulator. */
  readonly seed: (() => A) | undefined;
  /** The key's snapshot of an accumulator. */
  readonly toSnapshot: (acc: A) => S;
  /** The accumulator of a snapshot (resume). */
  readonly fromSnapshot: (snapshot: S) => A;
}

/** What a fold does, for {@linkcode foldEmitAtEof}. */
export interface FoldSpec<V, A, S> extends FoldAcc<A, S> {
  /** Folds one value into the accumulator (may mutate and return it). */
  readonly folder: (acc: A, value: V) => A;
  /**
   * Merges a worker's partial accumulator into the owner's (`seed()` neutral for it). With it,
   * several workers fold before the exchange; without it, every value moves to the key's owner.
   */
  readonly merge: ((acc: A, partial: A) => A) | undefined;
}

const identity = (n: number) => n;

/**
 * The count (`countFinal`): seed 0, one more per value, partial counts added, the count as the
 * snapshot. {@linkcode foldEmitAtEof} runs it with `CountLogic`, which adds without calling
 * `folder`: a folder call site shared by every fold of a process sees several functions, and
 * V8 then calls them instead of inlining them (a count was ~1.2× slower that way).
 */
export const COUNT: FoldSpec<unknown, number, number> = {
  seed: () => 0,
  folder: (n: number) => n + 1,
  merge: (a: number, b: number) => a + b,
  toSnapshot: identity,
  fromSnapshot: identity,
};

/**
 * A keyed step that folds each key's values as `spec` says and emits `[key, acc]` for every
 * key at EOF (sorted key order), then drops the key.
 */
export function foldEmitAtEof<V, A, S>(
  stepId: string,
  spec: FoldSpec<V, A, S>,
  options: StatefulOptions,
): WeirOperator<readonly [string, V], [string, A]> {
  const { seed, folder, merge } = spec;
  return keyedStep<V, A, S, A>(
    stepId,
    spec === (COUNT as FoldSpec<unknown, unknown, unknown>)
      ? (resume) =>
        new CountLogic(resume as number | undefined) as unknown as FoldAtEofLogic<V, A, S>
      : (resume) => new FoldAtEofLogic(spec, folder, resume),
    options,
    merge === undefined ? undefined : {
      fold: (partial, value) =>
        partial !== NO_PARTIAL
          ? folder(partial, value)
          : seed === undefined
          ? value as unknown as A
          : folder(seed(), value),
      builder: (resume) => new FoldAtEofLogic<A, A, S>(spec, merge, resume),
    },
  );
}

/** One key of a fold: a class, so a key's state is one object. */
class FoldAtEofLogic<V, A, S> implements PerValueLogic<V, A, S> {
  /** Whether `acc` holds an accumulator (not yet, for an unseeded fold's fresh key). */
  private has: boolean;
  protected acc: A | undefined;

  constructor(
    private readonly spec: FoldAcc<A, S>,
    private readonly folder: (acc: A, value: V) => A,
    resume: S | undefined,
  ) {
    if (resume !== undefined) {
      this.acc = spec.fromSnapshot(resume);
      this.has = true;
    } else if (spec.seed !== undefined) {
      this.acc = spec.seed();
      this.has = true;
    } else {
      this.acc = undefined;
      this.has = false;
    }
  }

  onBatch(values: V[]): LogicResult<A> {
    for (let i = 0; i < values.length; i++) this.onValue(values[i]!);
    return NOTHING;
  }

  onValue(value: V): void {
    if (this.has) this.acc = this.folder(this.acc as A, value);
    else {
      this.acc = value as unknown as A;
      this.has = true;
    }
  }

  onEof(): LogicResult<A> {
    return [this.has ? [this.acc as A] : [], DISCARD];
  }

  snapshot(): S {
    return this.spec.toSnapshot(this.acc as A);
  }
}

/** One key of the count ({@linkcode COUNT}): the fold, with `acc + 1` inline. */
class CountLogic extends FoldAtEofLogic<unknown, number, number> {
  constructor(resume: number | undefined) {
    super(COUNT, COUNT.folder, resume);
  }

  override onValue(): void {
    this.acc = this.acc! + 1;
  }
}
