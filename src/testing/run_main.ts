/**
 * runMain: run a flow on one worker in the calling thread.
 *
 * @module
 */
import type { Dataflow } from "../dataflow/dataflow.ts";
import { run, type RunOptions, type RunSummary } from "../runtime/run.ts";

/** Options of {@linkcode runMain}: those of `run`, without the worker count. */
export type RunMainOptions = Omit<RunOptions, "workers">;

/**
 * Runs `flow` on a single worker, like Bytewax's `run_main`: the entry point for tests and
 * scripts. Resolves with the run's summary; rejects with a `DataflowError` on failure.
 *
 * @example
 * ```ts
 * import { Dataflow } from "@weir/weir";
 * import { runMain, TestClock, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertEquals } from "@std/assert";
 *
 * const out: number[] = [];
 * const flow = new Dataflow("run_main_demo");
 * flow.input("inp", new TestingSource([1, TestingSource.PAUSE(60_000), 2]))
 *   .output("out", new TestingSink(out));
 * const clock = new TestClock({ start: 0 });
 * await runMain(flow, { clock }); // the one-minute pause passes in virtual time
 * assertEquals(out, [1, 2]);
 * assertEquals(clock.now() >= 60_000, true);
 * ```
 */
export function runMain(flow: Dataflow, options: RunMainOptions = {}): Promise<RunSummary> {
  return run(flow, { ...options, workers: 1 });
}
