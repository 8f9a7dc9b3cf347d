/**
 * What the random tests of the fused window logics share (`window_test.ts` for tumbling windows,
 * `session_fusion_test.ts` for sessions): the values, foldWindow's logic, and {@linkcode Twin},
 * a key's fused and general logics driven side by side.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import type { LogicContext } from "../../src/operators/stateful_batch.ts";
import { type PerValueLogic, QUIET } from "../../src/operators/_per_value_logic.ts";
import type { WindowBuilder } from "../../src/windowing/window.ts";
import { FoldLogic } from "../../src/windowing/_fold_logic.ts";
import type { KeyWindowsState } from "../../src/windowing/_window_events.ts";

export const T0 = Date.UTC(2024, 0, 1);
export const S = 1_000;
export type E = { t: number; v: number };

/** foldWindow's logic, an inline fold on the fused paths (merges concatenate: their order shows). */
export const fold: WindowBuilder<E, number[], { acc: number[] }> = (resume) =>
  new FoldLogic(resume?.acc ?? [], (acc: number[], e: E) => [...acc, e.v], (a, b) => [...a, ...b]);

// deno-lint-ignore no-explicit-any
export type Logic = PerValueLogic<E, any, any>;

/** A key's logic from its snapshot, as `windowLogicBuilder` makes it. */
type Build = (resume: KeyWindowsState | undefined, ctx: LogicContext) => Logic;

/** A logic's result, passed through (e.g. to count its events) before it is compared. */
type Seen = <R extends readonly [Iterable<unknown>, boolean]>(result: R) => R;

/**
 * One key's fused and general window logics, built from the same options and given the same
 * calls: every call must answer the same (`same` names the seed and the call), and a result that
 * discards the key drops both.
 */
export class Twin {
  fused: Logic | undefined = undefined;
  general: Logic | undefined = undefined;
  readonly #seed: number;
  readonly #fusedBuild: Build;
  readonly #generalBuild: Build;
  readonly #ctx: LogicContext;
  readonly #seen: Seen;

  constructor(
    seed: number,
    fusedBuild: Build,
    generalBuild: Build,
    ctx: LogicContext,
    seen?: Seen,
  ) {
    this.#seed = seed;
    this.#fusedBuild = fusedBuild;
    this.#generalBuild = generalBuild;
    this.#ctx = ctx;
    this.#seen = seen ?? ((result) => result);
  }

  same(what: string, a: unknown, b: unknown): void {
    assertEquals(a, b, `seed ${this.#seed}, ${what}`);
  }

  /**
   * Each of `values` through both logics' `onValue` (which must exist): the same outputs, the
   * fused logic's `QUIET` ("nothing at the end either") counting as the general one's
   * `undefined`; `each` sees the fused logic's other outputs. True when every answer was QUIET.
   */
  onValues(values: E[], each?: (out: Iterable<never>) => void): boolean {
    const fused = this.fused!;
    const general = this.general!;
    let quiet = true;
    for (const v of values) {
      const out = fused.onValue!(v);
      quiet &&= out === QUIET;
      this.same("onValue", out === QUIET ? undefined : out, general.onValue!(v));
      if (out !== QUIET && out !== undefined) each?.(out as Iterable<never>);
    }
    return quiet;
  }

  /** A timer fires (when both logics exist): the same `notifyAt`, then the same `onNotify`. */
  notify(): void {
    const { fused, general } = this;
    if (fused === undefined || general === undefined) return;
    this.same("notifyAt", fused.notifyAt!(), general.notifyAt!());
    const a = this.#seen(fused.onNotify!());
    this.same("onNotify", a, general.onNotify!());
    if (a[1]) this.fused = this.general = undefined;
  }

  /**
   * Snapshots both (the same), calls `between` (to move the clock), then resumes each from the
   * other's structured-cloned snapshot. False when the logics do not exist.
   */
  crossResume(between: () => void): boolean {
    const { fused, general } = this;
    if (fused === undefined || general === undefined) return false;
    const fs = structuredClone(fused.snapshot());
    const gs = structuredClone(general.snapshot());
    this.same("snapshot", fs, gs);
    between();
    this.fused = this.#fusedBuild(gs, this.#ctx);
    this.general = this.#generalBuild(fs, this.#ctx);
    return true;
  }

  /** After each step: the same next timer and the same snapshot. */
  check(): void {
    const { fused, general } = this;
    if (fused === undefined || general === undefined) return;
    this.same("notifyAt", fused.notifyAt!(), general.notifyAt!());
    this.same("snapshot", fused.snapshot(), general.snapshot());
  }

  /** The end: the same `onEof`. */
  eof(): void {
    const { fused, general } = this;
    if (fused !== undefined && general !== undefined) {
      this.same("onEof", this.#seen(fused.onEof!()), general.onEof!());
    }
  }
}
