/**
 * The window operators built on `window`, one per file, re-exported here: fold, reduce, max and
 * min, collect, count.
 *
 * @module
 */
export type { WindowOperator, WindowUpstream } from "./window_forms.ts";
export { foldWindow, type FoldWindowOptions } from "./fold_window.ts";
export { reduceWindow, type ReduceWindowOptions } from "./reduce_window.ts";
export { type ExtremeWindowOptions, maxWindow, minWindow } from "./extreme_window.ts";
export {
  type Collected,
  type CollectInto,
  collectWindow,
  type CollectWindowOptions,
} from "./collect_window.ts";
export { countWindow, type CountWindowOptions } from "./count_window.ts";
