// Shared by the operator tests: run items through operators and collect the output.
import type { OperatorFunction } from "rxjs";
import { Dataflow } from "../../mod.ts";
import { runMain, type RunMainOptions, TestingSink, TestingSource } from "../../src/testing/mod.ts";

/** Runs `items` (batch size `batchSize`) through `ops` in a flow named test_df; returns the output. */
export async function through<T>(
  items: unknown[],
  // deno-lint-ignore no-explicit-any
  ops: OperatorFunction<any, any>[],
  options: RunMainOptions & { batchSize?: number } = {},
): Promise<T[]> {
  const out: T[] = [];
  const flow = new Dataflow("test_df");
  flow.input("inp", new TestingSource(items, { batchSize: options.batchSize ?? 1 }))
    .pipe(...(ops as [OperatorFunction<unknown, unknown>]))
    .output("out", new TestingSink(out as unknown[]));
  await runMain(flow, options);
  return out;
}

/** Runs and returns the rejection (or throws if the run succeeded). */
export async function failure(
  items: unknown[],
  // deno-lint-ignore no-explicit-any
  ops: OperatorFunction<any, any>[],
  options: RunMainOptions & { batchSize?: number; sink?: unknown[] } = {},
): Promise<Error & { stepId?: string; key?: string; partition?: string }> {
  try {
    const out = await through(items, ops, options);
    options.sink?.push(...out);
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the run to fail");
}
