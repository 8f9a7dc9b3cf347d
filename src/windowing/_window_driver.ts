/**
 * The window driver: one `statefulBatch` step under every window operator, with a per-key logic
 * chosen once per operator by the capabilities its clock, windower and options declare.
 *
 * @module
 */
import type { WeirOperator } from "../dataflow/op.ts";
import { type LogicBuilder, statefulBatch } from "../operators/stateful_batch.ts";
import type { PerValueLogic } from "../operators/_per_value_logic.ts";
import type { WindowBuilder } from "./window_logic.ts";
import type { WindowOptions } from "./window_options.ts";
import { eventClockParams, fusedDrivers, sessionParams, tumblingParams } from "./_fusion.ts";
import { KeyWindows } from "./_key_windows.ts";
import type { KeyWindowsState, WindowEvent } from "./_window_events.ts";

/**
 * Builds a key's window logic: when the fused drivers are loaded (`fused_drivers.ts`), the
 * clock's class declares an event clock (`_fusion.ts`) and there are no early results, the
 * fused `TumblingEventWindows` if the windower's class declares tumbling windows and the fused
 * `SessionEventWindows` if it declares session windows; {@linkcode KeyWindows} otherwise. With `meta = false` (the
 * pipeable forms, which drop them) no META events are made. Exported for tests.
 *
 * @internal
 */
export function windowLogicBuilder<V, W, S>(
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
  meta = true,
): LogicBuilder<PerValueLogic<V, WindowEvent, KeyWindowsState>, KeyWindowsState> {
  const { clock, windower } = options;
  const early = options.early?.everyItems !== undefined || options.early?.everyMs !== undefined;
  const fused = fusedDrivers();
  const eventClock = early || fused === undefined ? undefined : eventClockParams<V>(clock);
  const tumbling = eventClock === undefined ? undefined : tumblingParams(windower);
  const session = eventClock === undefined ? undefined : sessionParams(windower);
  const ordered = options.ordered ?? true;
  if (eventClock !== undefined && tumbling !== undefined) {
    const Tumbling = fused!.tumbling;
    return (resume, ctx) =>
      new Tumbling<V, W, S>(eventClock, tumbling, ordered, meta, builder, ctx, resume);
  }
  if (eventClock !== undefined && session !== undefined) {
    const Session = fused!.session;
    return (resume, ctx) =>
      new Session<V, W, S>(eventClock, session, ordered, meta, builder, ctx, resume);
  }
  return (resume, ctx) => new KeyWindows<V, W, S>(options, builder, ctx, resume);
}

/** The stateful step of a window operator: `[key, value]` in, `[key, event]` out. */
export function windowDriver<V, W, S>(
  name: string,
  options: WindowOptions<V>,
  builder: WindowBuilder<V, W, S>,
  meta = true,
): WeirOperator<readonly [string, V], [string, WindowEvent]> {
  return statefulBatch<V, WindowEvent, KeyWindowsState>(
    name,
    windowLogicBuilder(options, builder, meta),
    options,
  );
}
