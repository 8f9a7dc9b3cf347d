/**
 * Errors raised while a dataflow runs.
 *
 * Definition-time mistakes (a bad step id, a stream from another flow) throw `TypeError` or
 * `RangeError` straight away. Everything that fails while a flow runs — user code, a connector,
 * a contract violation such as a non-string key — rejects `run` with one {@linkcode
 * DataflowError} that names the fully qualified step id and carries the original error as
 * `cause`.
 *
 * @module
 */

/** What failed, per DataflowError, to rebuild one on the main thread (see `whatFailed`). */
const whats = new WeakMap<Error, string>();

/** Internal: the `what` a DataflowError was built with. */
export function whatFailed(err: Error): string {
  return whats.get(err) ?? "";
}

/** Where a {@linkcode DataflowError} happened, beyond the step. */
export interface DataflowErrorDetails {
  /** The state key being processed, for keyed steps. */
  readonly key?: string;
  /** The source or sink partition being read or written. */
  readonly partition?: string;
  /** The worker the step failed on, in a run with several workers (`run`'s `workers`). */
  readonly worker?: number;
  /** The original error. */
  readonly cause?: unknown;
}

/**
 * A dataflow failed while running.
 *
 * Carries the fully qualified id of the step that failed (`flow.step[.substep]`), the key or
 * partition when there is one, and the original error as `cause`.
 *
 * @example Inspecting a failure
 * ```ts
 * import { Dataflow, DataflowError, isDataflowError } from "@weir/weir";
 * import { runMain, TestingSink, TestingSource } from "@weir/weir/testing";
 * import { map } from "rxjs";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const flow = new Dataflow("demo");
 * flow.input("inp", new TestingSource([1]))
 *   .pipe(map((x: number) => { if (x === 1) throw new Error("boom"); return x; }))
 *   .output("out", new TestingSink([]));
 * const err = await runMain(flow).catch((e) => e);
 * assert(isDataflowError(err));
 * assertEquals(err.stepId, "demo.pipe_1");
 * assertEquals((err.cause as Error).message, "boom");
 * assert(err instanceof DataflowError);
 * ```
 *
 * @example The worker, in a run on several workers
 * ```ts
 * import { DataflowError } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * // What `run(flow, { workers: 2, ... })` rejects with when the step failed on worker 1.
 * const err = new DataflowError("f.count", "onBatch failed", { key: "a", worker: 1 });
 * assertEquals(err.message, 'Step "f.count" for key "a" on worker 1: onBatch failed');
 * assertEquals([err.stepId, err.key, err.worker], ["f.count", "a", 1]);
 * ```
 */
export class DataflowError extends Error {
  /** The fully qualified id of the failing step, e.g. `"wordcount.split"`. */
  readonly stepId: string;
  /** The state key being processed, when the step is keyed. */
  readonly key: string | undefined;
  /** The source or sink partition, when the failure is in a connector. */
  readonly partition: string | undefined;
  /** The worker the step failed on, in a run with several workers; otherwise undefined. */
  readonly worker: number | undefined;

  /**
   * Builds the message from the step id, what failed and the key or partition.
   *
   * @param stepId Fully qualified step id.
   * @param what What failed, in sentence case without a trailing period; `""` for a plain
   *   failure of user code (the message then reads `Step "flow.step" failed: <cause>`).
   * @param details Key, partition and cause.
   */
  constructor(stepId: string, what: string, details: DataflowErrorDetails = {}) {
    const where = details.key !== undefined
      ? ` for key ${JSON.stringify(details.key)}`
      : details.partition !== undefined
      ? ` on partition ${JSON.stringify(details.partition)}`
      : "";
    const on = details.worker === undefined ? "" : ` on worker ${details.worker}`;
    const causeText = details.cause === undefined ? "" : `: ${describeCause(details.cause)}`;
    const head = what === ""
      ? `Step "${stepId}"${where}${on} failed`
      : `Step "${stepId}"${where}${on}: ${what}`;
    super(`${head}${causeText}`, { cause: details.cause });
    this.name = "DataflowError";
    this.stepId = stepId;
    this.key = details.key;
    this.partition = details.partition;
    this.worker = details.worker;
    whats.set(this, what);
  }
}

/**
 * Tells whether `value` is a {@linkcode DataflowError}.
 *
 * @example
 * ```ts
 * import { DataflowError, isDataflowError } from "@weir/weir";
 * import { assert } from "@std/assert";
 *
 * assert(isDataflowError(new DataflowError("f.s", "Failed")));
 * assert(!isDataflowError(new Error("x")));
 * ```
 */
export function isDataflowError(value: unknown): value is DataflowError {
  return value instanceof DataflowError;
}

/**
 * Thrown by a source partition's `nextBatch` to stop the run abruptly, as a crash would: no
 * EOF processing, no final snapshot, and `run` resolves with status `"aborted"` instead of
 * rejecting. Used by tests (see `TestingSource.ABORT`).
 *
 * @example
 * ```ts
 * import { AbortExecution } from "@weir/weir";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(new AbortExecution().name, "AbortExecution");
 * ```
 */
export class AbortExecution extends Error {
  /**
   * Throw it from user code to stop the run at once.
   *
   * @param message Why the run stops (default `"Execution aborted"`).
   */
  constructor(message = "Execution aborted") {
    super(message);
    this.name = "AbortExecution";
  }
}

/** Formats an error (or anything thrown) for inclusion in a message. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return typeof cause === "string" ? cause : JSON.stringify(cause) ?? String(cause);
  } catch {
    return String(cause);
  }
}

/**
 * Wraps `err` in a DataflowError for `stepId`, unless it already is one (the innermost step
 * that saw an error names it).
 */
export function attributeError(
  err: unknown,
  stepId: string,
  what = "",
  details: Omit<DataflowErrorDetails, "cause"> = {},
): DataflowError {
  if (err instanceof DataflowError) return err;
  return new DataflowError(stepId, what, { ...details, cause: err });
}
