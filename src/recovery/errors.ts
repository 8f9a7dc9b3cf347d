/**
 * {@linkcode RecoveryError}, what every recovery module throws when a store cannot be used.
 *
 * @module
 */

/**
 * The recovery store cannot be used: missing, corrupt, from another flow or format, or
 * holding state of steps the flow does not have. Names the store and the problem.
 *
 * @example
 * ```ts
 * import { Dataflow, RecoveryError, run } from "@weir/weir";
 * import { fsBackend } from "@weir/weir/recovery/fs";
 * import { TestingSink, TestingSource } from "@weir/weir/testing";
 * import { assertRejects } from "@std/assert";
 *
 * const flow = new Dataflow("demo");
 * flow.input("inp", new TestingSource([1])).output("out", new TestingSink([]));
 * const backend = fsBackend("/nonexistent/weir-store");
 * await assertRejects(() => run(flow, { recovery: { backend } }), RecoveryError);
 * ```
 */
export class RecoveryError extends Error {
  /**
   * A recovery failure with its message and, if any, the original error as `cause`.
   *
   * @param message What is wrong and how to fix it.
   * @param options The original error, if any.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RecoveryError";
  }
}
