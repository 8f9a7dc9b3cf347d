/**
 * The two forms every window operator has: given the upstream stream it returns
 * `{ down, late, meta, early }`; given only options (with `late`) it is pipeable and returns the
 * results. The types of both, and the helpers that tell them apart.
 *
 * @module
 */
import { type KeyedStream, Stream } from "../dataflow/dataflow.ts";
import type { WeirOperator } from "../dataflow/op.ts";
import { describeType } from "../dataflow/step_id.ts";
import { checkStream } from "../operators/_check_stream.ts";
import { window } from "./window.ts";
import type { WindowBuilder } from "./window_logic.ts";
import type { PipeableWindowOptions, WindowOptions, WindowOut } from "./window_options.ts";

/** The upstream of a window operator's stream form: a keyed stream of `V` values. */
export type WindowUpstream<V> = KeyedStream<V> | Stream<readonly [string, V]>;

/**
 * A window operator's pipeable form: takes `[key, value]` items and emits each closed window's
 * results as `[key, [windowId, result]]`.
 */
export type WindowOperator<V, W> = WeirOperator<readonly [string, V], [string, [number, W]]>;

/**
 * Tells the stream form `(stepId, up, options)` from the pipeable form `(stepId, options)`:
 * with options as the third argument, `up` must be a Stream (a TypeError says so otherwise,
 * rather than taking it for the options); with a Stream, the options must follow.
 */
export function isStreamForm(
  op: string,
  stepId: string,
  up: unknown,
  maybeOptions: unknown,
): boolean {
  if (up instanceof Stream) {
    if (maybeOptions === null || typeof maybeOptions !== "object") {
      throw new TypeError(
        `${op}("${stepId}"): options must be an options object, got ${describeType(maybeOptions)}`,
      );
    }
    return true;
  }
  if (maybeOptions !== undefined) checkStream(op, stepId, "up", up);
  return false;
}

/** Dispatches to the stream form or the pipeable form of `window`. */
export function windowed<V, W, S>(
  stepId: string,
  upOrOptions: WindowUpstream<V> | PipeableWindowOptions<V>,
  options: WindowOptions<V> | undefined,
  builder: (opts: WindowOptions<V>) => WindowBuilder<V, W, S>,
): WindowOut<V, W> | WindowOperator<V, W> {
  if (upOrOptions instanceof Stream) {
    return window(stepId, upOrOptions as WindowUpstream<V>, options!, builder(options!));
  }
  const opts = upOrOptions as PipeableWindowOptions<V>;
  return window(stepId, opts, builder(opts));
}
