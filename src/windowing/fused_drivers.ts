/**
 * Loads the window driver's fused paths and registers them (`_fusion.ts`): `mod.ts` imports
 * this module for its effect; the browser bundle's entry does not (see `_fusion.ts`).
 *
 * @module
 */
import { registerFusedDrivers } from "./_fusion.ts";
import { SessionEventWindows } from "./_session_event_windows.ts";
import { TumblingEventWindows } from "./_tumbling_event_windows.ts";

registerFusedDrivers({ tumbling: TumblingEventWindows, session: SessionEventWindows });
