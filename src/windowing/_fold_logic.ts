/**
 * The window logic of `foldWindow` (also under `collectWindow` and `countWindow`): one
 * accumulator per window. It declares itself an inline fold (`_fusion.ts`), so the window
 * driver's fused tumbling path folds the current window's values into a copy of `acc` it keeps
 * inline (see `TumblingEventWindows`).
 *
 * @module
 */
import { declareInlineFold } from "./_fusion.ts";
import type { WindowLogic } from "./window_logic.ts";

/** A shared empty result. */
export const EMPTY: readonly never[] = Object.freeze([]);

/** A window's accumulator, folded with `folder`; sessions merge with `merger`. */
export class FoldLogic<V, A> implements WindowLogic<V, A, { acc: A }> {
  constructor(
    public acc: A,
    readonly folder: (acc: A, value: V) => A,
    private readonly merger: (acc: A, other: A) => A,
    private readonly copy: (acc: A) => A = (acc) => acc,
  ) {}
  onEarly(): Iterable<A> {
    return [this.copy(this.acc)];
  }
  onValue(value: V): Iterable<A> {
    this.acc = this.folder(this.acc, value);
    return EMPTY;
  }
  onMerge(original: WindowLogic<V, A, { acc: A }>): Iterable<A> {
    this.acc = this.merger(this.acc, (original as FoldLogic<V, A>).acc);
    return EMPTY;
  }
  onClose(): Iterable<A> {
    return [this.acc];
  }
  snapshot(): { acc: A } {
    return { acc: this.acc };
  }
}

// `onValue` is exactly `acc = folder(acc, value)` with no output, and the other methods read only
// `acc`: the fused path may fold inline (subclasses are not declared).
declareInlineFold(FoldLogic);
