/**
 * `run`: executes a dataflow.
 *
 * @module
 */
import { type Clock, WallClock } from "../clock.ts";
import type { Dataflow } from "../dataflow/dataflow.ts";
import {
  type RecoveryConfig,
  RecoveryError,
  RecoveryStore,
  splitStateKey,
  stateKey,
} from "../recovery/store.ts";
import type { RestoredState } from "../recovery/store.ts";
import { buildWorker, type BuiltWorker, validateFlow } from "./build.ts";
import { type RunSummary, Scheduler } from "./scheduler.ts";
import { WorkerRuntime } from "./worker_runtime.ts";

export type { RunSummary };

/** Options of {@linkcode run}. */
export interface RunOptions {
  /**
   * Length of an epoch in milliseconds (default 10 000). Epochs are the unit of backpressure
   * and, with recovery, of snapshots. 0 ends an epoch after every activation.
   */
  readonly epochInterval?: number;
  /** The clock every time-based part of the run uses (default: the wall clock). */
  readonly clock?: Clock;
  /**
   * How many workers run the graph (default 1). Only 1 is supported in this version; the
   * graph, partitions and keyed steps are built for more.
   */
  readonly workers?: number;
  /**
   * Snapshot every epoch to a store and resume from its last committed epoch (see
   * {@linkcode RecoveryConfig}). Off by default.
   */
  readonly recovery?: RecoveryConfig;
}

/** The default epoch length: 10 seconds, like Bytewax. */
export const DEFAULT_EPOCH_INTERVAL_MS = 10_000;

/**
 * Runs a dataflow until every input reached EOF and every sink finished.
 *
 * Resolves with a {@linkcode RunSummary} (`status: "aborted"` when a source threw
 * `AbortExecution`); rejects with a `DataflowError` naming the failing step (with the original
 * error as `cause`) when user code or a connector fails, and with an `Error` when the flow
 * has no input or no output.
 *
 * @example
 * ```ts
 * import { Dataflow, keyOn, run } from "@weir/weir";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: [string, string][] = [];
 * const flow = new Dataflow("run_demo");
 * flow.input("inp", new TestingSource(["apple", "banana"]))
 *   .pipe(keyOn("first_letter", (s) => s[0]!))
 *   .output("out", new TestingSink(out));
 * const summary = await run(flow, { epochInterval: 1000 });
 * assertEquals(summary.status, "eof");
 * assertEquals(out, [["a", "apple"], ["b", "banana"]]);
 * ```
 */
export async function run(flow: Dataflow, options: RunOptions = {}): Promise<RunSummary> {
  const epochInterval = options.epochInterval ?? DEFAULT_EPOCH_INTERVAL_MS;
  if (typeof epochInterval !== "number" || !(epochInterval >= 0)) {
    throw new RangeError(
      `epochInterval must be a number of milliseconds >= 0, got ${epochInterval}`,
    );
  }
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${workers}`);
  }
  if (workers !== 1) {
    throw new RangeError(
      `Running on ${workers} workers is not supported yet; this version runs 1 worker`,
    );
  }
  validateFlow(flow);
  const clock = options.clock ?? new WallClock();
  const config = options.recovery;
  if (config === undefined) {
    const rt = new WorkerRuntime(clock, 0, 1);
    const worker = buildWorker(flow, rt);
    return await new Scheduler(worker, { epochInterval, flowId: flow.flowId }).run();
  }
  const store = await RecoveryStore.open(config, flow.flowId, clock.now());
  try {
    const restored = await store.load();
    const resumedFrom = store.lastEpoch;
    const rt = new WorkerRuntime(clock, 0, 1);
    rt.epoch = store.lastEpoch + 1;
    const worker = buildWorker(flow, rt);
    const resume = restore(worker, restored, store, config.dropOrphans === true);
    const summary = await new Scheduler(worker, {
      epochInterval,
      flowId: flow.flowId,
      store,
      resume,
    }).run();
    await store.close();
    return { ...summary, resumedFrom };
  } catch (err) {
    // The run's own failure is the one to report; closing is best effort.
    await store.close().catch(() => {});
    throw err;
  }
}

/**
 * Checks that every step with stored state is in the flow (or drops it when asked), then
 * rebuilds each stateful step's keys. Returns the sources' and sinks' positions.
 */
function restore(
  worker: BuiltWorker,
  restored: RestoredState,
  store: RecoveryStore,
  dropOrphans: boolean,
): RestoredState {
  const known = new Set<string>();
  for (const s of worker.stateful) known.add(stateKey("state", s.stepId));
  for (const i of worker.inputs) if (i.isFixed) known.add(stateKey("source", i.step.id));
  for (const o of worker.outputs) if (o.isFixed) known.add(stateKey("sink", o.step.id));
  const orphans = [...restored].filter(([k, m]) => !known.has(k) && m.size > 0).map(([k]) => k);
  if (orphans.length > 0) {
    if (!dropOrphans) {
      const list = orphans.map((k) => {
        const [kind, id] = splitStateKey(k);
        return `${id} (${kind}, ${restored.get(k)!.size} keys)`;
      }).join(", ");
      throw new RecoveryError(
        `The recovery store in ${store.backend.description} holds state of steps this flow ` +
          `does not have: ${list}. Put those steps back, or pass dropOrphans: true to delete ` +
          `their state`,
      );
    }
    for (const k of orphans) {
      const [kind, id] = splitStateKey(k);
      store.dropStep(kind, id);
    }
  }
  for (const s of worker.stateful) {
    const keys = restored.get(stateKey("state", s.stepId));
    if (keys === undefined) continue;
    for (const [key, snap] of keys) s.node.restore!(key, snap);
  }
  return restored;
}
