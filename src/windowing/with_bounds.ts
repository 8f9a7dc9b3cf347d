/**
 * withBounds: window results paired with their windows' start and end.
 *
 * @module
 */
import type { KeyedStream, Stream } from "../dataflow/dataflow.ts";
import { checkStepId } from "../dataflow/step_id.ts";
import { checkStream } from "../operators/_check_stream.ts";
import { mapValue } from "../operators/map_value.ts";
import { DISCARD, NOTHING, RETAIN, statefulBatch } from "../operators/stateful_batch.ts";
import type { WindowMetadata } from "./windowers.ts";

/** A closed window: its id and its extent (epoch ms), as the window's `meta` stream reports it. */
export interface WindowBounds {
  /** The window's id, as in `[key, [windowId, result]]`. */
  readonly id: number;
  /** The window's start, epoch ms. */
  readonly open: number;
  /**
   * The window's end, epoch ms: exclusive for sliding/tumbling windows, the last item's
   * timestamp for sessions.
   */
  readonly close: number;
}

/** The `down` and `meta` streams of a window operator's stream form. */
export interface WindowResults<W> {
  /** `[key, [windowId, result]]`. */
  readonly down: KeyedStream<[number, W]> | Stream<readonly [string, readonly [number, W]]>;
  /** `[key, [windowId, metadata]]`, after the window's results. */
  readonly meta:
    | KeyedStream<[number, WindowMetadata]>
    | Stream<readonly [string, readonly [number, WindowMetadata]]>;
}

/** A result (`0`) or a window's metadata (`1`), tagged for the pairing step. */
type Tagged = readonly [tag: 0 | 1, windowId: number, payload: unknown];

/**
 * Pairs a window operator's results with their windows' bounds: from the `down` and `meta`
 * streams of a stream-form window operator, emits `[key, [{ id, open, close }, result]]`
 * when the window closes. The default result shape stays Bytewax's `[key, [windowId,
 * result]]`; this is opt-in and costs nothing for flows that do not use it.
 *
 * Correct for every windower, sessions included: a session's bounds are known only when it
 * closes, and the `meta` event follows its results. Results held for a window whose `meta` has
 * not arrived yet (results a custom `WindowLogic.onMerge` emitted before the session closed)
 * are keyed state, snapshotted with the epoch. Early results are not paired (their window is
 * still open). For tumbling and sliding windows, `windower.metadataFor(id)` gives the same
 * bounds from the id alone, which also works on the pipeable forms.
 *
 * A composite: `down` and `meta` are tagged (`results`, `bounds`), merged (`merge`) and
 * paired per key by a `statefulBatch` (`pair`).
 *
 * @param stepId The step's name.
 * @param windows The `down` and `meta` streams of a window operator (e.g. its whole result).
 * @returns `[key, [bounds, result]]` per result of each closed window.
 *
 * @example Session totals with their start and end
 * ```ts
 * import { Dataflow, EventClock, foldWindow, SessionWindower, withBounds } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * type Click = { t: number; n: number };
 * const flow = new Dataflow("bounds_demo");
 * const clicks = flow.input("inp", new TestingSource<[string, Click]>([
 *   ["u", { t: 1_000, n: 1 }],
 *   ["u", { t: 3_000, n: 2 }],
 *   ["u", { t: 60_000, n: 5 }],
 * ]));
 * const sums = foldWindow("sums", clicks, {
 *   clock: new EventClock((c: Click) => c.t, { waitFor: 0 }),
 *   windower: new SessionWindower(10_000),
 *   builder: () => 0,
 *   folder: (acc, c) => acc + c.n,
 *   merger: (a, b) => a + b,
 * });
 * const out: [string, [{ id: number; open: number; close: number }, number]][] = [];
 * withBounds("with_bounds", sums).output("out", new TestingSink(out));
 * await runMain(flow);
 * assertEquals(out, [
 *   ["u", [{ id: 0, open: 1_000, close: 3_000 }, 3]],
 *   ["u", [{ id: 1, open: 60_000, close: 60_000 }, 5]],
 * ]);
 * ```
 */
export function withBounds<W>(
  stepId: string,
  windows: WindowResults<W>,
): KeyedStream<[WindowBounds, W]> {
  checkStepId(stepId);
  if (windows === null || typeof windows !== "object") {
    throw new TypeError(
      `withBounds("${stepId}") needs a window operator's { down, meta } streams, got ${windows}`,
    );
  }
  checkStream("withBounds", stepId, "windows.down", windows.down);
  checkStream("withBounds", stepId, "windows.meta", windows.meta);
  const down = windows.down as Stream<readonly [string, readonly [number, W]]>;
  const meta = windows.meta as Stream<readonly [string, readonly [number, WindowMetadata]]>;
  return down.flow.composite(stepId, "withBounds", (scope) => {
    const results = scope.pipe(
      down,
      mapValue("results", ([id, w]: readonly [number, W]): Tagged => [0, id, w]),
    );
    const bounds = scope.pipe(
      meta,
      mapValue("bounds", ([id, m]: readonly [number, WindowMetadata]): Tagged => [1, id, m]),
    );
    const merged = scope.merge("merge", results, bounds) as Stream<[string, Tagged]>;
    return scope.pipe(
      merged,
      statefulBatch<Tagged, [WindowBounds, W], Array<[number, W[]]>>("pair", (resume) => {
        // Results waiting for their window's metadata, by window id (usually empty: a
        // window's results and its metadata arrive in the same activation).
        const pending = new Map<number, W[]>(resume);
        return {
          onBatch(values) {
            const out: [WindowBounds, W][] = [];
            for (const [tag, id, payload] of values) {
              if (tag === 0) {
                const held = pending.get(id);
                if (held === undefined) pending.set(id, [payload as W]);
                else held.push(payload as W);
                continue;
              }
              const held = pending.get(id);
              if (held === undefined) continue;
              pending.delete(id);
              const m = payload as WindowMetadata;
              const b: WindowBounds = { id, open: m.open, close: m.close };
              for (const w of held) out.push([b, w]);
            }
            return [out, pending.size === 0 ? DISCARD : RETAIN];
          },
          onEof: () => NOTHING,
          snapshot: () => [...pending],
        };
      }),
    ) as KeyedStream<[WindowBounds, W]>;
  });
}
