// Helpers for the file-format tests: a source wrapper that crashes after N batches (as a
// SIGKILL would: AbortExecution, no EOF, no final snapshot) and a partition drainer.
import {
  AbortExecution,
  EOF,
  type FixedPartitionedSource,
  type PartitionContext,
  type StatefulSourcePartition,
} from "../../mod.ts";
import { fsBackend } from "../../src/recovery/deno_fs.ts";
import { TestClock } from "../../src/testing/mod.ts";

export const ctx: PartitionContext = { clock: new TestClock(), workerIndex: 0, workerCount: 1 };

/**
 * Wraps `source` so that, across all partitions, the `n + 1`-th call of nextBatch aborts
 * (`n` undefined: never). Each batch also advances the run's clock (a `TestClock` with
 * `autoAdvance: false`) by 1 ms, so with `epochInterval: 2` an epoch ends after every second
 * batch, and a crash after an odd number of batches leaves a written, uncommitted batch in
 * the sinks.
 */
export function abortAfter<T, S>(
  source: FixedPartitionedSource<T, S>,
  n: number | undefined,
): FixedPartitionedSource<T, S> {
  let calls = 0;
  return {
    listParts: () => source.listParts(),
    async buildPart(stepId, part, resume, c) {
      const inner = await source.buildPart(stepId, part, resume, c);
      return {
        nextBatch() {
          if (n !== undefined && calls >= n) {
            throw new AbortExecution(`crash after ${n} batches`);
          }
          calls++;
          (c.clock as TestClock).advance(1);
          return inner.nextBatch();
        },
        snapshot: () => inner.snapshot(),
        close: () => inner.close?.(),
      };
    },
  };
}

/** Run options for {@linkcode abortAfter}: epochs of two batches, a store in `store`. */
export function crashOptions(store: string) {
  return {
    epochInterval: 2,
    clock: new TestClock({ autoAdvance: false }),
    recovery: { backend: fsBackend(store), create: true },
  };
}

/** Reads a partition to its end, batch by batch. */
export async function drain<T, S>(part: StatefulSourcePartition<T, S>): Promise<T[][]> {
  const batches: T[][] = [];
  for (;;) {
    const b = await part.nextBatch();
    if (b === EOF) return batches;
    batches.push([...b]);
  }
}

/** A fresh temporary directory, removed after `fn`. */
export async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "weir_formats_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
